import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import type { TokenKeyInfo, TokenSession, TokenTarget } from "../../keys/index.js";
import {
  cometAddressOf,
  type ImportSource,
  readPrivValidatorKey,
  readSubstrateKeyFile,
  secureDelete,
} from "../../keys/index.js";
import { toHex } from "../../util/hex.js";
import { ConfigError, ConfigErrorCode } from "../config.js";

interface TargetFlags {
  module: string;
  tokenLabel: string;
  pinFile: string;
}

interface KeyFlags extends TargetFlags {
  label: string;
  id?: Uint8Array;
}

interface ImportFlags extends KeyFlags {
  privValidatorKey?: string;
  substrateKey?: string;
  deleteSource?: boolean;
}

function parseId(v: string): Uint8Array {
  if (!/^(0x)?([0-9a-fA-F]{2}){1,64}$/.test(v)) throw new InvalidArgumentError("must be 1-64 hex bytes");
  return new Uint8Array(Buffer.from(v.replace(/^0x/, ""), "hex"));
}

function target(o: TargetFlags): TokenTarget {
  return {
    module: o.module.includes("/") ? resolve(o.module) : o.module,
    tokenLabel: o.tokenLabel,
    pinFile: o.pinFile,
  };
}

function withTarget(cmd: Command): Command {
  return cmd
    .requiredOption("--module <path>", "PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so")
    .requiredOption("--token-label <label>", "label of the token")
    .requiredOption("--pin-file <file>", "file holding the user PIN");
}

/** The native PKCS#11 binding loads only when a `keys hsm` command runs (the rest of the CLI never needs it). */
async function inToken<T>(t: TokenTarget, readWrite: boolean, f: (s: TokenSession) => T): Promise<T> {
  const { withTokenSession } = await import("../../keys/pkcs11/tokenAdmin.js");
  return withTokenSession(t, readWrite, f);
}

const hex = (b: Uint8Array): string => toHex(b).slice(2);

/** Lines about a key; the last line is the public key alone (64 hex characters), for scripts. */
function printKey(action: string, k: TokenKeyInfo, token: string, extra: string[] = []): void {
  const origin = k.neverExtractable ? "generated in the token, never extractable" : "imported, now non-extractable";
  process.stdout.write(
    `${[
      `${action} Ed25519 key "${k.label}" (id ${hex(k.id)}) in token "${token}": sensitive, ${origin}`,
      `CometBFT validator address ${cometAddressOf(k.publicKey)}`,
      ...extra,
      hex(k.publicKey),
    ].join("\n")}\n`,
  );
}

/** `slashguard keys hsm generate|import|list`: Ed25519 keys in a PKCS#11 token (see docs/hsm.md). */
export function registerKeysHsmCommands(keys: Command): void {
  const hsm = keys.command("hsm").description("Ed25519 keys in a PKCS#11 token (HSM): CometBFT and Substrate ed25519");

  withTarget(hsm.command("generate"))
    .description("create an Ed25519 key inside the token; prints its public key (hex) on the last line")
    .requiredOption("--label <label>", "label of the new key (refused if taken)")
    .option("--id <hex>", "CKA_ID of the new key (default: 16 random bytes)", parseId)
    .action(async (o: KeyFlags) => {
      const k = await inToken(target(o), true, (s) => s.generate(o.label, o.id ?? randomBytes(16)));
      printKey("generated", k, o.tokenLabel);
    });

  withTarget(hsm.command("import"))
    .description("move an existing Ed25519 key into the token (sensitive, non-extractable)")
    .requiredOption("--label <label>", "label of the key in the token (refused if taken)")
    .option("--id <hex>", "CKA_ID of the key (default: 16 random bytes)", parseId)
    .option("--priv-validator-key <file>", "a CometBFT priv_validator_key.json")
    .option("--substrate-key <file>", "a Substrate keystore file of an ed25519 key (e.g. gran)")
    .option("--delete-source", "overwrite and delete the source file once the token signs with the key")
    .action(async (o: ImportFlags) => {
      if ((o.privValidatorKey === undefined) === (o.substrateKey === undefined))
        throw new ConfigError(
          { code: ConfigErrorCode.Invalid, file: "" },
          "give exactly one of --priv-validator-key and --substrate-key",
        );
      const file = (o.privValidatorKey ?? o.substrateKey)!;
      const src: ImportSource =
        o.privValidatorKey !== undefined ? readPrivValidatorKey(file) : await readSubstrateKeyFile(file);
      let k: TokenKeyInfo;
      try {
        k = await inToken(target(o), true, (s) =>
          s.importSeed(o.label, src.seed, src.publicKey, o.id ?? randomBytes(16)),
        );
      } finally {
        src.seed.fill(0);
      }
      const extra = [`imported ${src.what} from ${file}`];
      if (o.deleteSource === true) {
        secureDelete(file);
        extra.push(`deleted ${file} (overwritten first)`);
      }
      printKey("imported", k, o.tokenLabel, extra);
    });

  withTarget(hsm.command("list"))
    .description("list the token's Ed25519 keys: public key (hex), label, id, attributes")
    .action(async (o: TargetFlags) => {
      const keys = await inToken(target(o), false, (s) => s.list());
      for (const k of keys) {
        const flags = [
          k.sensitive ? "sensitive" : "NOT-SENSITIVE",
          k.extractable ? "EXTRACTABLE" : "non-extractable",
          k.neverExtractable ? "generated-in-token" : "imported",
        ].join(",");
        process.stdout.write(`${hex(k.publicKey)} label=${JSON.stringify(k.label)} id=${hex(k.id)} ${flags}\n`);
      }
    });
}
