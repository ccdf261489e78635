/**
 * PostgreSQL high availability (issue 17): the Ethereum protection workload of bench/protection.ts (its
 * own code, imported, same flags) on a single server and on a primary with a synchronous standby, in the
 * same run; then the time from killing the primary to the first signature recorded on the promoted standby.
 *
 *   npm run build && node --import tsx bench/pgHa.ts [--validators 10000] [--epochs 3] [--failovers 5] [--failover-clients 16]
 *
 * Both servers are private clusters made by the tests' helper (test/utils/pgCluster.ts: initdb, and
 * pg_basebackup for the standby) from the same binaries and settings, on loopback. The pair runs
 * `--db-durability replicated` (every write transaction also checks that the standby is synchronous).
 *
 * Failover: `--failover-clients` closed-loop clients, one key each, sign attestations through EthereumProtection
 * on the multi-host URL (durability local, as the e2e test); a failed request is retried after 10 ms (a
 * validator client retries too). The primary is killed (`pg_ctl stop -m immediate`: SIGQUIT to the
 * postmaster), the standby promoted (pg_promote, wait) and, as a cluster manager without a spare standby
 * does, told to stop waiting for a synchronous standby. Measured from the kill: promoted, ready (writes
 * commit again), and the first recorded signature of a request sent after the old primary was gone.
 */
import type { DbDurability } from "../src/store/pgDurability.js";
import { HAS_PG_BINARIES, startPgCluster, startPgPair } from "../test/utils/pgCluster.js";
import { arg, fmt, machine, now, percentile, table } from "./lib.js";
// the compiled program, as the signer runs it, loaded by protection.ts
import {
  attestationWorkload,
  EPOCHS,
  Protection as EthereumProtection,
  key,
  N,
  nullLogger,
  openStore,
  rootOf,
} from "./protection.js";

const FAILOVERS = Number(arg("failovers", "5"));
// not --in-flight: that flag is bench/protection.ts's (requests in flight in the workload, default 1,024)
const IN_FLIGHT = Number(arg("failover-clients", "16"));
const GVR = new Uint8Array(32);
const RETRY_MS = 10;

async function workload(setup: string, url: string, durability: DbDurability): Promise<(string | number)[][]> {
  const store = await openStore(url, { durability });
  try {
    const p = await EthereumProtection.open({ genesisValidatorsRoot: GVR }, { store, logger: nullLogger });
    const { b, s } = await attestationWorkload(p);
    await p.close();
    return [
      [setup, "burst", b.rate, b.p50, b.p99],
      [setup, "sustained", s.rate, s.p50, s.p99],
    ];
  } finally {
    await store.close();
  }
}

interface Failover {
  promotedMs: number;
  readyMs: number;
  firstSignatureMs: number;
  refusedWhileDown: number;
}

async function failover(): Promise<Failover> {
  const pair = await startPgPair(true);
  const store = await openStore(pair.url, { durability: "local" });
  try {
    const p = await EthereumProtection.open({ genesisValidatorsRoot: GVR }, { store, logger: nullLogger });
    const keys = Array.from({ length: IN_FLIGHT }, (_, i) => key(i));
    await p.registerValidators(keys);
    let stop = false;
    let primaryGone = Number.POSITIVE_INFINITY;
    let firstAfter = Number.NaN;
    let refused = 0;
    const client = async (i: number): Promise<void> => {
      for (let target = 1; !stop; ) {
        const sent = now();
        try {
          await p.checkAndRecord({
            kind: "attestation",
            pubkey: keys[i]!,
            source: BigInt(target - 1),
            target: BigInt(target),
            signingRoot: rootOf(i, target),
          });
          if (sent > primaryGone && Number.isNaN(firstAfter)) firstAfter = now();
          target++;
        } catch {
          refused++;
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
    };
    const clients = keys.map((_, i) => client(i));
    await new Promise((r) => setTimeout(r, 1000)); // steady load first
    const killedAt = now();
    await pair.primary.kill();
    primaryGone = now();
    await pair.standby.promote();
    const promotedAt = now();
    await pair.standby.admin("ALTER SYSTEM RESET synchronous_standby_names");
    await pair.standby.reload("synchronous_standby_names", "");
    const readyAt = now();
    while (Number.isNaN(firstAfter)) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await Promise.all(clients);
    await p.close();
    return {
      promotedMs: promotedAt - killedAt,
      readyMs: readyAt - killedAt,
      firstSignatureMs: firstAfter - killedAt,
      refusedWhileDown: refused,
    };
  } finally {
    await store.close();
    await pair.standby.stop();
    await pair.primary.stop();
  }
}

if (!HAS_PG_BINARIES) {
  console.error("bench/pgHa.ts needs the PostgreSQL server binaries (initdb, pg_basebackup) under /usr/lib/postgresql");
  process.exit(1);
}

const rows: (string | number)[][] = [];
const single = await startPgCluster();
try {
  rows.push(...(await workload("single server (local)", single.url, "local")));
} finally {
  await single.stop();
}
const pair = await startPgPair(true);
try {
  rows.push(...(await workload("primary + synchronous standby (replicated)", pair.url, "replicated")));
} finally {
  await pair.standby.stop();
  await pair.primary.stop();
}
console.log(
  `\nAttestations checked and recorded, ${N.toLocaleString("en-US")} validators, ${EPOCHS} epochs per workload`,
);
console.log(`machine: ${machine()}\n`);
console.log(table(["database", "workload", "attestations/s", "p50 ms", "p99 ms"], rows));

const runs: Failover[] = [];
for (let i = 0; i < FAILOVERS; i++) runs.push(await failover());
const line = (name: string, pick: (f: Failover) => number): (string | number)[] => {
  const v = runs.map(pick).sort((a, b) => a - b);
  return [name, percentile(v, 50), v[v.length - 1]!, v.map(fmt).join(", ")];
};
console.log(
  `\nFailover: primary killed under ${IN_FLIGHT} closed-loop clients, standby promoted, ${FAILOVERS} repetitions (ms from the kill)\n`,
);
console.log(
  table(
    ["step", "median ms", "max ms", "each run"],
    [
      line("standby promoted (pg_promote returned)", (f) => f.promotedMs),
      line("synchronous_standby_names reset and seen", (f) => f.readyMs),
      line("first signature recorded on the new primary", (f) => f.firstSignatureMs),
      line("of which after the promotion", (f) => f.firstSignatureMs - f.promotedMs),
      line("requests failed closed meanwhile", (f) => f.refusedWhileDown),
    ],
  ),
);
