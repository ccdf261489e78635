/**
 * Ethereum slashing protection throughput and latency, on SQLite and PostgreSQL, beside (a) the raw
 * batched insert rate of the same engine and (b) @lodestar/validator 1.5.1's SlashingProtection (LevelDB).
 *
 *   npm run build && node --import tsx bench/protection.ts [--validators 10000] [--epochs 3] [--engines sqlite,postgres]
 *
 * Workloads: "burst" = every slot of an epoch sends N/32 concurrent attestations (distinct keys) and waits
 * for all answers; "sustained" = a closed loop keeping 1,024 requests in flight over every key.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { EthereumProtection } from "../src/protection/ethereum/ethereumProtection.js";
import type { Store } from "../src/store/types.js";
import { arg, cpuSeconds, fmt, freshPg, fromDist, machine, now, stats, table } from "./lib.js";

// the compiled program, as the signer runs it (lib.ts fromDist); bench/pgHa.ts uses these too
export const { EthereumProtection: Protection } = await fromDist<
  typeof import("../src/protection/ethereum/ethereumProtection.js")
>("protection/ethereum/ethereumProtection.js");
export const { openStore } = await fromDist<typeof import("../src/store/openStore.js")>("store/openStore.js");
export const { nullLogger } = await fromDist<typeof import("../src/util/logger.js")>("util/logger.js");

export const N = Number(arg("validators", "10000"));
export const EPOCHS = Number(arg("epochs", "3"));
const ENGINES = arg("engines", "sqlite,postgres").split(",");
// group-commit tuning (defaults: the signer's own); for sweeps
const SHARDS = process.argv.includes("--shards") ? Number(arg("shards", "4")) : undefined;
const MAX_BATCH = process.argv.includes("--max-batch") ? Number(arg("max-batch", "256")) : undefined;
const OVERLAP = process.argv.includes("--overlap") ? Number(arg("overlap", "2")) : undefined;
// --cpu: this process's and every PostgreSQL process's CPU time over the raw and sustained phases
const CPU = process.argv.includes("--cpu");
const SLOTS = 32;
const IN_FLIGHT = Number(arg("in-flight", "1024"));
export const FIRST_EPOCH = 10; // lodestar's surround store fills every epoch from 0 on a key's first vote: start low for fairness

const GVR = new Uint8Array(32);
export const key = (i: number): Uint8Array => {
  const p = new Uint8Array(48);
  p[0] = 0xa0;
  new DataView(p.buffer).setUint32(44, i);
  return p;
};
/** The root of key i's vote at epoch e: i and e big-endian in its first 8 bytes. */
export const rootOf = (i: number, e: number): Uint8Array => {
  const r = new Uint8Array(32);
  r[0] = i >>> 24;
  r[1] = i >>> 16;
  r[2] = i >>> 8;
  r[3] = i;
  r[4] = e >>> 24;
  r[5] = e >>> 16;
  r[6] = e >>> 8;
  r[7] = e;
  return r;
};

export type Check = (i: number, source: number, target: number) => Promise<unknown>;

interface Result {
  rate: number;
  p50: number;
  p99: number;
}

/** The slashguard workload: N registered keys, a burst then sustained epochs of attestations. */
export async function attestationWorkload(p: EthereumProtection): Promise<{ b: Result; s: Result }> {
  const keys = Array.from({ length: N }, (_, i) => key(i));
  await p.registerValidators(keys);
  const check: Check = (i, s, t) =>
    p.checkAndRecord({
      kind: "attestation",
      pubkey: keys[i]!,
      source: BigInt(s),
      target: BigInt(t),
      signingRoot: rootOf(i, t),
    });
  const b = await burst(check, FIRST_EPOCH);
  const s = await sustained(check, FIRST_EPOCH + EPOCHS);
  return { b, s };
}

export async function burst(check: Check, firstEpoch: number): Promise<Result> {
  const lat: number[] = [];
  const per = Math.ceil(N / SLOTS);
  const t0 = now();
  for (let e = firstEpoch; e < firstEpoch + EPOCHS; e++) {
    for (let s = 0; s < SLOTS; s++) {
      const reqs: Promise<void>[] = [];
      for (let i = s * per; i < Math.min(N, (s + 1) * per); i++) {
        const t = now();
        reqs.push(check(i, e - 1, e).then(() => void lat.push(now() - t)));
      }
      await Promise.all(reqs);
    }
  }
  const secs = (now() - t0) / 1000;
  return { rate: lat.length / secs, ...stats(lat) };
}

export async function sustained(check: Check, firstEpoch: number): Promise<Result> {
  const lat: number[] = [];
  const total = N * EPOCHS;
  let next = 0;
  const t0 = now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const n = next++;
      if (n >= total) return;
      const e = firstEpoch + Math.floor(n / N);
      const t = now();
      await check(n % N, e - 1, e);
      lat.push(now() - t);
    }
  };
  const cpu = cpuMeter();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  cpu.report("sustained", total);
  return { rate: total / ((now() - t0) / 1000), ...stats(lat) };
}

/** With --cpu: prints the wall time, this process's and every PostgreSQL process's CPU time since it was made. */
function cpuMeter(): { report(phase: string, rows: number): void } {
  const t0 = now();
  const c0 = process.cpuUsage();
  const pg0 = postgresCpuSeconds();
  return {
    report(phase, rows) {
      if (!CPU) return;
      const c = process.cpuUsage(c0);
      const ms = (us: number): string => (us / 1000).toFixed(0);
      console.log(
        `${phase}: wall ${(now() - t0).toFixed(0)} ms, node cpu ${ms(c.user + c.system)} ms (sys ${ms(c.system)}), postgres cpu ${((postgresCpuSeconds() - pg0) * 1000).toFixed(0)} ms, rows ${rows}`,
      );
    },
  };
}

/** CPU seconds of every process named postgres on this machine (the server's backends and helpers). */
function postgresCpuSeconds(): number {
  let t = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("postgres")) t += cpuSeconds(Number(pid));
    } catch {
      // the process ended while we looked
    }
  }
  return t;
}

/** Raw batched insert rate (run before and after the workloads; the percentages use the mean): 1,000 attestation rows per committed transaction, same engine, same table shape, same durability. */
async function rawInsertRate(store: Store): Promise<number> {
  const rows = 50_000;
  const batch = 1000;
  await store.tx(async (tx) => {
    // the same columns, keys and indexes as eth_signed_attestations: the limit of writing these records
    await tx.run("DROP TABLE IF EXISTS bench_raw");
    await tx.run(
      tx.dialect === "postgres"
        ? `CREATE TABLE bench_raw (validator_id INTEGER NOT NULL, target_epoch u64 NOT NULL, source_epoch u64 NOT NULL,
             signing_root BYTEA CHECK (signing_root IS NULL OR length(signing_root) = 32), extra BOOLEAN NOT NULL DEFAULT FALSE,
             PRIMARY KEY (validator_id, target_epoch, source_epoch))`
        : `CREATE TABLE bench_raw (validator_id INTEGER NOT NULL, target_epoch INTEGER NOT NULL, source_epoch INTEGER NOT NULL,
             signing_root BLOB CHECK (signing_root IS NULL OR length(signing_root) = 32), extra INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (validator_id, target_epoch, source_epoch)) WITHOUT ROWID`,
    );
    await tx.run("CREATE UNIQUE INDEX bench_raw_one ON bench_raw (validator_id, target_epoch) WHERE NOT extra");
  });
  const t0 = now();
  const cpu = cpuMeter();
  for (let b = 0; b < rows / batch; b++) {
    await store.tx(async (tx) => {
      // row g is validator g mod N at target g div N + 1: every (validator, target) pair is distinct for
      // any N (a batch may cross into the next epoch, or hold a key at several targets when N < 1,000)
      const rowsOfBatch = Array.from({ length: batch }, (_, i) => b * batch + i);
      const ids = rowsOfBatch.map((g) => g % N);
      const targets = rowsOfBatch.map((g) => Math.floor(g / N) + 1);
      if (tx.dialect === "postgres") {
        await tx.run(
          "INSERT INTO bench_raw (validator_id, target_epoch, source_epoch, signing_root) SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::bytea[])",
          [
            ids,
            targets.map((t) => String(t)),
            targets.map((t) => String(t - 1)),
            ids.map((i, k) => rootOf(i, targets[k]!)),
          ],
        );
      } else {
        for (const [k, i] of ids.entries()) {
          const target = targets[k]!;
          await tx.run(
            "INSERT INTO bench_raw (validator_id, target_epoch, source_epoch, signing_root) VALUES ($1, $2, $3, $4)",
            [i, tx.u64(BigInt(target)), tx.u64(BigInt(target - 1)), rootOf(i, target)],
          );
        }
      }
    });
  }
  const rate = rows / ((now() - t0) / 1000);
  cpu.report("raw", rows);
  await store.tx((tx) => tx.run("DROP TABLE bench_raw"));
  return rate;
}

async function runSlashguard(engine: string): Promise<(string | number)[][]> {
  const dir = mkdtempSync(join(tmpdir(), "sg-bench-"));
  const pgdb = engine === "postgres" ? await freshPg("bench") : null;
  const store = await openStore(pgdb?.url ?? `sqlite:${join(dir, "bench.db")}`);
  try {
    // the raw rate before and after the workloads, so a shared machine's load moving during the run shows
    const rawBefore = await rawInsertRate(store);
    const p = await Protection.open(
      {
        genesisValidatorsRoot: GVR,
        ...(SHARDS !== undefined && { shards: SHARDS }),
        ...(MAX_BATCH !== undefined && { maxBatch: MAX_BATCH }),
        ...(OVERLAP !== undefined && { overlap: OVERLAP }),
      },
      { store, logger: nullLogger },
    );
    const { b, s } = await attestationWorkload(p);
    await p.close();
    const rawAfter = await rawInsertRate(store);
    const raw = (rawBefore + rawAfter) / 2;
    return [
      [`slashguard ${engine}`, "burst", b.rate, b.p50, b.p99, `${((100 * b.rate) / raw).toFixed(0)}%`],
      [`slashguard ${engine}`, "sustained", s.rate, s.p50, s.p99, `${((100 * s.rate) / raw).toFixed(0)}%`],
      [`raw batched insert (${engine}, 1,000/tx), mean`, "-", raw, "-", "-", "100%"],
      [`  raw before / after the workloads`, "-", `${fmt(rawBefore)} / ${fmt(rawAfter)}`, "-", "-", "-"],
    ];
  } finally {
    await store.close();
    await pgdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runLodestar(): Promise<(string | number)[][]> {
  const dir = mkdtempSync(join(tmpdir(), "sg-bench-ld-"));
  // a plain .mjs adapter resolving its packages from bench/peer/node_modules (the path sits in a
  // variable: the linter would rewrite a literal import extension)
  const adapter = new URL("./peer/lodestarProtection.mjs", import.meta.url).href;
  const { openLodestar } = await import(adapter);
  const l = await openLodestar(join(dir, "level"));
  try {
    const keys = Array.from({ length: N }, (_, i) => key(i));
    const check: Check = (i, s, t) => l.checkAttestation(keys[i]!, s, t, rootOf(i, t));
    const b = await burst(check, FIRST_EPOCH);
    const s = await sustained(check, FIRST_EPOCH + EPOCHS);
    return [
      ["@lodestar/validator 1.5.1 (LevelDB)", "burst", b.rate, b.p50, b.p99, "-"],
      ["@lodestar/validator 1.5.1 (LevelDB)", "sustained", s.rate, s.p50, s.p99, "-"],
    ];
  } finally {
    await l.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// run as a script; imported (bench/pgHa.ts reuses the workload, same flags), only the exports
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows: (string | number)[][] = [];
  for (const e of ENGINES) rows.push(...(await runSlashguard(e)));
  if (!process.argv.includes("--no-peer")) rows.push(...(await runLodestar()));
  console.log(
    `\nAttestations checked and recorded, ${N.toLocaleString("en-US")} validators, ${EPOCHS} epochs per workload`,
  );
  console.log(`machine: ${machine()}\n`);
  console.log(table(["implementation", "workload", "attestations/s", "p50 ms", "p99 ms", "of raw rate"], rows));
}
