import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { DEFAULT_PBKDF2_C, DEFAULT_SCRYPT_N, generateKeystores } from "../../keys/index.js";
import { toHex } from "../../util/hex.js";
import { kdfOptions, parseKdf, parsePositiveInt } from "../options.js";
import { ProgressLine } from "../progress.js";
import { registerKeysHsmCommands } from "./keysHsm.js";
import {
  addThresholdGenerateOptions,
  generateThresholdKeys,
  isThresholdGenerate,
  registerThresholdKeysCommands,
} from "./keysThreshold.js";

export function registerKeysCommands(program: Command): void {
  const keys = program.command("keys").description("validator keys");
  registerThresholdKeysCommands(keys); // threshold: `keys split` (keysThreshold.ts)
  const generate = keys
    .command("generate")
    .description("write N random BLS keys as EIP-2335 keystores with password files (demos and tests)")
    .option("--count <n>", "number of keys (required, except with --threshold: default 1)", parsePositiveInt)
    .requiredOption("--out <dir>", "output folder (NAME.json + NAME.txt)")
    .option("--kdf <name>", "scrypt or pbkdf2", parseKdf, "scrypt")
    .option(
      "--kdf-work <n>",
      `scrypt n or pbkdf2 c (default ${DEFAULT_SCRYPT_N} / ${DEFAULT_PBKDF2_C}, as EIP-2335 recommends; lower only for tests)`,
      parsePositiveInt,
    )
    .action(async (o: { count?: number; out: string; kdf: "scrypt" | "pbkdf2"; kdfWork?: number }) => {
      if (isThresholdGenerate(o)) return generateThresholdKeys(o); // threshold: keysThreshold.ts
      if (o.count === undefined) throw new InvalidArgumentError("--count is required");
      const progress = new ProgressLine("generating keystores");
      const made = await generateKeystores(o.out, o.count, kdfOptions(o), (d, t) => progress.update(d, t));
      progress.done();
      for (const k of made) process.stdout.write(`${toHex(k.pubkey)} ${k.file}\n`);
    });
  registerKeysHsmCommands(keys);
  addThresholdGenerateOptions(generate); // threshold: --threshold/--shares/--cluster (keysThreshold.ts)
}
