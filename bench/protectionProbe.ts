/**
 * Server cost of each step of a PostgreSQL protection batch (10,000 validators with a few epochs of
 * history), measured from a plain client: median of repeated runs per statement.
 *
 *   node --import tsx bench/protectionProbe.ts [--validators 10000] [--batch 1024] [--reps 15]
 */
import pg from "pg";
import { EthereumProtection } from "../src/protection/ethereum/ethereumProtection.js";
import { pgAttestationTopsSql, pgBatchWriteSql } from "../src/store/ethereum/ethSigningPostgres.js";
import { openStore } from "../src/store/openStore.js";
import { pgLiteral } from "../src/store/sqlLiteral.js";
import { nullLogger } from "../src/util/logger.js";
import { arg, freshPg, now } from "./lib.js";

const N = Number(arg("validators", "10000"));
const BATCH = Number(arg("batch", "1024"));
const REPS = Number(arg("reps", "15"));

const key = (i: number): Uint8Array => {
  const p = new Uint8Array(48);
  p[0] = 0xa0;
  new DataView(p.buffer).setUint32(44, i);
  return p;
};

const db = await freshPg("probe");
const store = await openStore(db.url);
const p = await EthereumProtection.open({ genesisValidatorsRoot: new Uint8Array(32) }, { store, logger: nullLogger });
const keys = Array.from({ length: N }, (_, i) => key(i));
await p.registerValidators(keys);
for (let e = 1; e <= 3; e++) {
  await Promise.all(
    keys.map((k) =>
      p.checkAndRecord({ kind: "attestation", pubkey: k, source: BigInt(e - 1), target: BigInt(e), signingRoot: null }),
    ),
  );
}
await p.close();
await store.close();

const c = new pg.Client({ connectionString: db.url });
await c.connect();
const ids = (r: number): number[] =>
  Array.from({ length: BATCH }, (_, i) => ((r * BATCH + i) % N) + 1).sort((a, b) => a - b);

async function time(name: string, body: (ids: number[]) => string | [string, unknown[]]): Promise<void> {
  const t: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const q = body(ids(r));
    await c.query("BEGIN");
    const t0 = now();
    if (typeof q === "string") await c.query(q);
    else await c.query(q[0], q[1]);
    t.push(now() - t0);
    await c.query("ROLLBACK");
  }
  t.sort((a, b) => a - b);
  console.log(`${name.padEnd(48)} ${t[Math.floor(t.length / 2)]!.toFixed(2)} ms`);
}

const lockValues = (ids: number[]): string =>
  `SELECT count(CASE WHEN k.cls < 0 THEN pg_advisory_xact_lock_shared(0, 0) ELSE pg_advisory_xact_lock(k.cls, k.id) END)
   FROM (SELECT cls, id FROM (VALUES (-1,0),${ids.map((i) => `(2,${i})`).join(",")}) AS u(cls, id) ORDER BY cls, id) k`;
await time("SELECT 1", () => "SELECT 1");
await time("locks: VALUES + ORDER BY (before)", lockValues);
await time(
  "locks: unnest(int[])",
  (ids) => `SELECT pg_advisory_xact_lock_shared(0, 0);
  SELECT count(pg_advisory_xact_lock(2, k)) FROM (SELECT unnest(${pgLiteral.ints(ids)}) AS k ORDER BY 1) s`,
);
// The repository's own statement (src/store/ethereum/ethSigningPostgres.ts), so the probe cannot drift.
const stateRead = (ids: number[]): string => pgAttestationTopsSql(pgLiteral.intArray(ids));
await time("state read (records' maxima + token, key settings cached)", stateRead);
await time(
  "state read, no attestation_state join",
  (ids) => `SELECT v.id, v.enabled,
    m.target_epoch AS max_target, m.source_epoch AS top_source FROM eth_validators v
    LEFT JOIN LATERAL (
      SELECT a.target_epoch, a.source_epoch FROM eth_signed_attestations a
      WHERE a.validator_id = v.id ORDER BY a.target_epoch DESC, a.source_epoch DESC LIMIT 1
    ) m ON true WHERE v.id = ANY(${pgLiteral.ints(ids)})`,
);
await time(
  "validators only",
  (ids) => `SELECT v.id, v.enabled FROM eth_validators v WHERE v.id = ANY(${pgLiteral.ints(ids)})`,
);
const roots = (ids: number[]): (Uint8Array | null)[] => ids.map(() => new Uint8Array(32).fill(7));
await time(
  "insert, literal (before)",
  (ids) => `INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root)
  SELECT * FROM unnest(${pgLiteral.ints(ids)}, ${pgLiteral.numerics(ids.map(() => 100n))}, ${pgLiteral.numerics(ids.map(() => 99n))}, ${pgLiteral.byteas(roots(ids))})`,
);
await time("insert, params (raw's)", (ids) => [
  `INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root)
  SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::bytea[])`,
  [ids, ids.map(() => "100"), ids.map(() => "99"), roots(ids).map((r) => Buffer.from(r!))],
]);
await time(
  "insert, array-text constants (new)",
  (ids) =>
    // the repository's write statement for a batch of attestations only (a data-modifying CTE)
    pgBatchWriteSql({
      blocks: [],
      attestations: ids.map((id) => ({ id, target: 100n, source: 99n, signingRoot: new Uint8Array(32).fill(7) })),
      blockStates: [],
      attestationStates: [],
    })!,
);
await time(
  "insert, no roots (ints+numerics only)",
  (ids) => `INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch)
  SELECT i, t, s FROM unnest(${pgLiteral.intArray(ids)}, ${pgLiteral.numericArray(ids.map(() => 100n))}, ${pgLiteral.numericArray(ids.map(() => 99n))}) AS u(i, t, s)`,
);
await time("locks + read, two statements in one query", (ids) =>
  [
    `SELECT pg_advisory_xact_lock_shared(0, 0)`,
    `SELECT count(pg_advisory_xact_lock(2, k)) FROM (SELECT unnest(${pgLiteral.intArray(ids)}) AS k ORDER BY 1) s`,
    stateRead(ids),
  ].join("; "),
);
await c.end();
if (!process.argv.includes("--keep")) await db.drop();
