import { writeFileSync } from "node:fs";
import { generateDummyKey, parseValidatorKey, type ValidatorKeyInfo } from "../../../src/failover/node/keyFiles.js";

/** A fresh Ed25519 validator key file (FilePV format); returns its address. */
export function writeValidatorKey(path: string): ValidatorKeyInfo {
  const text = generateDummyKey("ed25519");
  writeFileSync(path, text, { mode: 0o600 });
  return parseValidatorKey(JSON.parse(text), path);
}
