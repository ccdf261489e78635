import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { formatHrs, formatStateFile, parseStateFile, type StateFileFormat } from "../../chains/cometbft/index.js";
import { loadCometBftKeyFile } from "../../keys/index.js";
import { CometBftProtection } from "../../protection/index.js";
import { openStore } from "../../store/index.js";
import { writeFileDurable } from "../../util/durableFile.js";
import { BadRequestError } from "../../util/errors.js";
import { nullLogger } from "../../util/logger.js";
import { DB_OPTION } from "../options.js";

interface KeyFlags {
  db: string;
  chainId: string;
  keyFile?: string;
  pubkey?: Uint8Array;
}

/** An Ed25519 consensus public key as 0x-hex, hex or base64 (priv_validator_key.json's pub_key.value). */
function parseEd25519Pubkey(v: string): Uint8Array {
  const hex = v.replace(/^0x/, "");
  const b = /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, "hex") : Buffer.from(v, "base64");
  if (b.length !== 32) throw new InvalidArgumentError("must be a 32-byte Ed25519 public key (hex or base64)");
  return new Uint8Array(b);
}

function pubkeyOf(o: KeyFlags): Uint8Array {
  if (o.keyFile !== undefined) return loadCometBftKeyFile(o.keyFile).publicKey;
  if (o.pubkey !== undefined) return o.pubkey;
  throw new BadRequestError("give --key-file or --pubkey", "pubkey");
}

async function withProtection<T>(db: string, fn: (p: CometBftProtection) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  const p = new CometBftProtection({}, { store, logger: nullLogger });
  try {
    return await fn(p);
  } finally {
    await p.close();
    await store.close();
  }
}

const keyOptions = (c: Command): Command =>
  c
    .option(...DB_OPTION)
    .requiredOption("--chain-id <id>", "chain id the state belongs to")
    .option("--key-file <file>", "priv_validator_key.json of the validator (only its public key is used)")
    .option(
      "--pubkey <key>",
      "the validator's Ed25519 public key (hex or base64) instead of --key-file",
      parseEd25519Pubkey,
    );

/** `protection import-cometbft-state` / `export-cometbft-state`: move FilePV/tmkms/Horcrux state in and out. */
export function registerCometBftStateCommands(program: Command): void {
  const protection = program.commands.find((c) => c.name() === "protection") ?? program.command("protection");

  keyOptions(
    protection
      .command("import-cometbft-state")
      .description(
        "import a priv_validator_state.json (CometBFT FilePV, tmkms or Horcrux) as a key's starting state; never lowers the stored state",
      ),
  )
    .option("--format <format>", "filepv, horcrux or tmkms (default: detected)")
    .argument("<file>", "the state file")
    .action(async (file: string, o: KeyFlags & { format?: string }) => {
      if (o.format !== undefined && !["filepv", "horcrux", "tmkms"].includes(o.format))
        throw new BadRequestError("--format must be filepv, horcrux or tmkms", "format");
      const pubkey = pubkeyOf(o);
      const parsed = parseStateFile(readFileSync(file, "utf8"), o.format as StateFileFormat | undefined);
      const r = await withProtection(o.db, (p) => p.importState(o.chainId, pubkey, parsed.state));
      process.stdout.write(
        r.applied
          ? `imported ${formatHrs(parsed.state.hrs)} (${parsed.format}) for chain ${o.chainId}\n`
          : `kept the stored state ${formatHrs(r.stored.hrs)}: it is at or above the file (${formatHrs(parsed.state.hrs)})\n`,
      );
    });

  keyOptions(
    protection
      .command("export-cometbft-state")
      .description("write a key's stored state as a FilePV priv_validator_state.json (to move back to a local signer)"),
  )
    .argument("<file>", "output file, or - for stdout")
    .action(async (file: string, o: KeyFlags) => {
      const pubkey = pubkeyOf(o);
      const state = await withProtection(o.db, (p) => p.state(o.chainId, pubkey));
      if (state === null) throw new BadRequestError(`no state for this key on chain ${o.chainId}`, "chain-id");
      const text = formatStateFile(state);
      if (file === "-") process.stdout.write(text);
      else writeFileDurable(file, text, 0o600);
    });
}
