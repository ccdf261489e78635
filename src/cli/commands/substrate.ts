import { mkdirSync } from "node:fs";
import type { Command } from "commander";
import { copyKeystore } from "../../keys/index.js";

interface CopyFlags {
  from: string;
  to: string;
  keyType?: string[];
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

async function copy(o: CopyFlags, what: string): Promise<void> {
  mkdirSync(o.to, { recursive: true, mode: 0o700 });
  const s = await copyKeystore(o.from, o.to, o.keyType === undefined ? null : new Set(o.keyType));
  process.stdout.write(`${what}: ${s.copied} keys copied, ${s.alreadyThere} already there\n`);
  if (s.invalid.length > 0) {
    process.stderr.write(
      `skipped ${s.invalid.length} files whose secret does not match their name: ${s.invalid.join(", ")}\n`,
    );
    process.exitCode = 1;
  }
  if (s.conflicts.length > 0) {
    process.stderr.write(
      `skipped ${s.conflicts.length} files whose public key is filed under another key type (one public key, one key type): ${s.conflicts.join(", ")}\n`,
    );
    process.exitCode = 1;
  }
}

/** `slashguard substrate …`: moving session keys between a node's keystore and the signer's. */
export function registerSubstrateCommands(program: Command): void {
  const substrate = program.command("substrate").description("Substrate / Polkadot keystore tools");

  substrate
    .command("import-keystore")
    .description("copy session keys from a node's keystore folder into the signer's (then remove them from the node)")
    .requiredOption("--from <dir>", "the node's keystore, e.g. <base-path>/chains/<chain>/keystore")
    .requiredOption("--to <dir>", "the signer's keystore (--substrate-keystore)")
    .option("--key-type <type>", "only this key type, e.g. gran or babe (repeatable)", collect)
    .action((o: CopyFlags) => copy(o, "imported"));

  substrate
    .command("export-keystore")
    .description("copy keys out of the signer's keystore (a node signing with them is no longer protected)")
    .requiredOption("--from <dir>", "the signer's keystore (--substrate-keystore)")
    .requiredOption("--to <dir>", "target keystore folder")
    .option("--key-type <type>", "only this key type (repeatable)", collect)
    .action((o: CopyFlags) => copy(o, "exported"));
}
