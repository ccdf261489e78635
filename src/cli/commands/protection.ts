import { createReadStream, createWriteStream, readFileSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { finished } from "node:stream/promises";
import { type Command, Option } from "commander";
import type { ProtectionRequest } from "../../chains/ethereum/index.js";
import {
  DEFAULT_EPOCHS_TO_KEEP,
  DEFAULT_SESSIONS_TO_KEEP,
  DEFAULT_SLOTS_PER_SESSION,
  EthereumProtection,
  ethereumStatus,
  exportInterchange,
  exportSubstrateInterchange,
  importInterchange,
  importSubstrateInterchange,
  pruneEthereum,
  pruneSubstrate,
  substrateStatus,
} from "../../protection/index.js";
import type { Store } from "../../store/index.js";
import { openStore, PostgresStore } from "../../store/index.js";
import { BadRequestError, isAppError } from "../../util/errors.js";
import { parseHex } from "../../util/hex.js";
import { createLogger, type LogLevel } from "../../util/logger.js";
import { parseU64 } from "../../util/u64.js";
import {
  DB_OPTION,
  LOG_LEVEL_OPTION,
  parseBigIntArg,
  parseGenesisRoot,
  parseLogLevel,
  parsePubkey,
} from "../options.js";
import { ProgressLine } from "../progress.js";

async function withStore<T>(url: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerProtectionCommands(program: Command): void {
  const protection = program
    .command("protection")
    .description("slashing-protection database: import, export, check, prune, status");

  protection
    .command("import")
    .description("import an EIP-3076 interchange file (atomic: a failing file changes nothing)")
    .option(...DB_OPTION)
    .addOption(CHAIN_OPTION)
    .option("--genesis-validators-root <hex>", "genesis validators root of the chain", parseGenesisRoot)
    .argument("<file>", "interchange JSON file, or - for stdin")
    .action(async (file: string, o: { db: string; chain: Chain; genesisValidatorsRoot?: Uint8Array }, cmd: Command) => {
      if (o.chain === "substrate") {
        await withStore(o.db, async (store) => {
          const text = file === "-" ? await readStdin() : readFileSync(file, "utf8");
          const s = await importSubstrateInterchange(store, text);
          process.stdout.write(`imported ${s.keys} substrate keys, ${s.records} records\n`);
        });
        return;
      }
      const gvr = requireGenesisRoot(cmd, o.genesisValidatorsRoot);
      await withStore(o.db, async (store) => {
        const size = file === "-" ? 0 : statSync(file).size;
        const progress = new ProgressLine("importing");
        const input = file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
        const s = await importInterchange(store, input, gvr, {
          onProgress: (n) => progress.update(n, size, "bytes"),
        });
        progress.done();
        process.stdout.write(
          `imported ${s.validators} validators, ${s.blocks} blocks, ${s.attestations} attestations\n`,
        );
      });
    });

  protection
    .command("export")
    .description("export an EIP-3076 interchange file (stop signing first, or use the keymanager DELETE)")
    .option(...DB_OPTION)
    .addOption(CHAIN_OPTION)
    .option("--genesis-validators-root <hex>", "genesis validators root of the chain", parseGenesisRoot)
    .option("--pubkey <hex>", "export only this key (repeatable)", parsePubkey)
    .argument("<file>", "output file, or - for stdout")
    .action(
      async (
        file: string,
        o: { db: string; chain: Chain; genesisValidatorsRoot?: Uint8Array; pubkey?: Uint8Array[] },
        cmd: Command,
      ) => {
        const gvr = o.chain === "substrate" ? null : requireGenesisRoot(cmd, o.genesisValidatorsRoot);
        await withStore(o.db, async (store) => {
          const out = file === "-" ? process.stdout : createWriteStream(file);
          const line =
            gvr === null
              ? await exportSubstrateInterchange(store, out).then(
                  (s) => `exported ${s.keys} substrate keys, ${s.records} records`,
                )
              : await exportInterchange(store, out, gvr, o.pubkey).then(
                  (s) => `exported ${s.validators} validators, ${s.blocks} blocks, ${s.attestations} attestations`,
                );
          if (out !== process.stdout) {
            out.end();
            await finished(out);
          }
          process.stderr.write(`${line}\n`);
        });
      },
    );

  protection
    .command("check")
    .description("decide signing requests read as JSON lines from stdin; allowed ones are recorded")
    .option(...DB_OPTION)
    .requiredOption("--genesis-validators-root <hex>", "genesis validators root of the chain", parseGenesisRoot)
    .option(...LOG_LEVEL_OPTION, parseLogLevel, "error" as LogLevel)
    .action(async (o: { db: string; genesisValidatorsRoot: Uint8Array; logLevel: LogLevel }) => {
      const { logger } = createLogger({ level: o.logLevel });
      await withStore(o.db, async (store) => {
        const p = await EthereumProtection.open({ genesisValidatorsRoot: o.genesisValidatorsRoot }, { store, logger });
        await runCheckLoop(p);
        await p.close();
      });
    });

  protection
    .command("prune")
    .description("drop history older than the last N epochs per key, raising the low watermarks first")
    .option(...DB_OPTION)
    .addOption(CHAIN_OPTION)
    .option("--epochs-to-keep <n>", "epochs kept per key", parseBigIntArg, DEFAULT_EPOCHS_TO_KEEP)
    .option("--slots-per-epoch <n>", "slots per epoch of the chain", parseBigIntArg, 32n)
    .option("--sessions-to-keep <n>", "substrate: sessions kept per key", parseBigIntArg, DEFAULT_SESSIONS_TO_KEEP)
    .option("--slots-per-session <n>", "substrate: BABE slots per session", parseBigIntArg, DEFAULT_SLOTS_PER_SESSION)
    .action(
      async (o: {
        db: string;
        chain: Chain;
        epochsToKeep: bigint;
        slotsPerEpoch: bigint;
        sessionsToKeep: bigint;
        slotsPerSession: bigint;
      }) => {
        await withStore(o.db, async (store) => {
          const progress = new ProgressLine("pruning");
          if (o.chain === "substrate") {
            const s = await pruneSubstrate(store, {
              sessionsToKeep: o.sessionsToKeep,
              slotsPerSession: o.slotsPerSession,
            });
            process.stdout.write(`pruned ${s.keys} substrate keys: ${s.deleted} records deleted\n`);
            return;
          }
          const s = await pruneEthereum(store, {
            epochsToKeep: o.epochsToKeep,
            slotsPerEpoch: o.slotsPerEpoch,
            onProgress: (d, t) => progress.update(d, t),
          });
          progress.done();
          process.stdout.write(
            `pruned ${s.validators} validators: ${s.blocksDeleted} blocks and ${s.attestationsDeleted} attestations deleted\n`,
          );
        });
      },
    );

  protection
    .command("status")
    .description("keys, record counts and watermarks")
    .option(...DB_OPTION)
    .option("--json", "one JSON object per key")
    .action(async (o: { db: string; json?: boolean }) => {
      await withStore(o.db, async (store) => {
        const write = (line: string): void => {
          process.stdout.write(line);
        };
        if (!o.json && store instanceof PostgresStore) write(`${databaseLine(store)}\n`);
        await ethereumStatus(store, write, { json: o.json === true });
        await substrateStatus(store, write, { json: o.json === true });
      });
    });
}

/** PostgreSQL's replication setup as the store classified it (docs/protection.md, "PostgreSQL high availability"). */
function databaseLine(store: PostgresStore): string {
  const r = store.replication;
  if (r === null) return "database: postgres (replication state unknown)";
  const at = store.primary === null ? "" : ` primary ${store.primary}`;
  const verdict =
    r.setup === "sync_standby"
      ? "a failover keeps every acknowledged record; --db-durability replicated is satisfied"
      : r.setup === "async_standby"
        ? "UNSAFE: promoting the asynchronous standby can lose acknowledged records (forgotten signatures)"
        : "no standby: --db-durability replicated would refuse to sign";
  return `database: postgres${at} replication ${r.setup} (synchronous_commit=${r.synchronousCommit}, synchronous_standby_names='${r.synchronousStandbyNames}', ${r.syncStandbys} of ${r.standbys} standbys synchronous): ${verdict}`;
}

type Chain = "ethereum" | "substrate";

const CHAIN_OPTION = new Option("--chain <chain>", "ethereum (EIP-3076) or substrate (docs/substrate.md)")
  .choices(["ethereum", "substrate"])
  .default("ethereum");

/** Ethereum needs the genesis validators root; the same message commander gives for a missing required option. */
function requireGenesisRoot(cmd: Command, gvr: Uint8Array | undefined): Uint8Array {
  if (gvr === undefined) {
    cmd.error("error: required option '--genesis-validators-root <hex>' not specified", {
      code: "commander.missingMandatoryOptionValue",
    });
  }
  return gvr;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Most requests read ahead of their answers (keeps memory bounded on a fast producer). */
const MAX_IN_FLIGHT = 10_000;
const MAX_LINE = 64 * 1024;

/**
 * Reads one request per line and answers in the same order. Requests are decided concurrently (so
 * they share group-commit transactions); an answer is written only after its record is committed.
 */
async function runCheckLoop(p: EthereumProtection): Promise<void> {
  let written: Promise<void> = Promise.resolve();
  let inFlight = 0;
  const write = (line: string): Promise<void> =>
    new Promise((resolve) => {
      if (process.stdout.write(`${line}\n`)) resolve();
      else process.stdout.once("drain", resolve);
    });
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    if (line.trim().length === 0) continue;
    const pending = answer(p, line);
    inFlight++;
    written = written.then(async () => {
      await write(await pending);
      inFlight--;
    });
    if (inFlight >= MAX_IN_FLIGHT) await written;
  }
  await written;
}

async function answer(p: EthereumProtection, line: string): Promise<string> {
  try {
    const req = parseCheckLine(line);
    await p.checkAndRecord(req);
    return '{"allowed":true}';
  } catch (e) {
    const code = isAppError(e) ? e.code : "ERR_INTERNAL";
    const reason = isAppError(e) ? e.message.replace(/^ERR_[A-Z_]+: /, "") : "internal error";
    return JSON.stringify({ allowed: false, code, reason });
  }
}

/** `{"kind":"block","pubkey","slot","signing_root"?}` or `{"kind":"attestation","pubkey","source_epoch","target_epoch","signing_root"?}` */
export function parseCheckLine(line: string): ProtectionRequest {
  if (line.length > MAX_LINE) throw new BadRequestError("line too long");
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new BadRequestError("line is not valid JSON");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new BadRequestError("line must be a JSON object");
  const r = o as Record<string, unknown>;
  const pubkey = parseHex(r.pubkey, "pubkey", 48);
  const signingRoot =
    r.signing_root === undefined || r.signing_root === null ? null : parseHex(r.signing_root, "signing_root", 32);
  if (r.kind === "block") return { kind: "block", pubkey, slot: parseU64(r.slot, "slot"), signingRoot };
  if (r.kind === "attestation") {
    return {
      kind: "attestation",
      pubkey,
      source: parseU64(r.source_epoch, "source_epoch"),
      target: parseU64(r.target_epoch, "target_epoch"),
      signingRoot,
    };
  }
  throw new BadRequestError('kind must be "block" or "attestation"', "kind");
}
