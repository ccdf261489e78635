/**
 * CometBFT vote-signing latency over loopback: a fake node (the listening side, SecretConnection)
 * sends prevotes at increasing heights, one at a time as a real node does, to a real
 * `slashguard signer` process; each round trip includes the protection decision, the durable commit
 * and the Ed25519 signature. Beside it, in the same run: raw Ed25519 signing and a raw durable write
 * (one-row committed transaction) on the same engines — the physical limits of the path.
 *
 *   npm run build && node --import tsx bench/cometbft.ts [votes]
 */
import { createPrivateKey, sign } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { CHAIN_ID, seedOf, testKey } from "../test/utils/comet.js";
import { startSigner, writeKeyFile, writeSignerConfig } from "../test/utils/cometSignerProcess.js";
import { FakeCometNode, fakeVoteSignBytes, randomBlock, requests, verifyEd25519 } from "../test/utils/fakeCometNode.js";
import { freshStoreUrl, HAS_PG, tempDir } from "../test/utils/stores.js";

const VOTES = Number(process.argv[2] ?? 2000);
const WARMUP = 100;

interface Row {
  what: string;
  p50: number;
  p99: number;
  mean: number;
  perSecond: number;
}

function summarize(what: string, samplesMs: number[]): Row {
  const s = [...samplesMs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { what, p50: q(0.5), p99: q(0.99), mean, perSecond: 1000 / mean };
}

async function timeLoop(n: number, fn: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

async function signerLatency(engine: "sqlite" | "postgres", dir: string): Promise<Row> {
  const seed = seedOf("bench");
  const key = testKey("bench");
  const keyFile = writeKeyFile(dir, seed, key, `key-${engine}.json`);
  const { url, cleanup } = await freshStoreUrl(engine);
  const node = await FakeCometNode.listen();
  const cfg = writeSignerConfig({ dir, name: engine, chainId: CHAIN_ID, keyFile, nodes: [node.address] });
  const signer = await startSigner(["--config", cfg.main, "--cometbft-config", cfg.comet, "--db", url]);
  try {
    await node.waitForSigner();
    const block = randomBlock();
    const ts = { seconds: 1_700_000_000n, nanos: 0 };
    let h = 1n;
    const vote = () => ({ type: 1 as const, height: h++, round: 0, block, timestamp: ts });
    for (let i = 0; i < WARMUP; i++) await node.request(requests.vote(CHAIN_ID, vote()));
    const last = vote();
    const samples = await timeLoop(VOTES, async () => {
      const r = await node.request(requests.vote(CHAIN_ID, vote()));
      if (r.signature.length !== 64) throw new Error(`vote refused: ${r.error?.description}`);
    });
    const check = await node.request(requests.vote(CHAIN_ID, { ...last, height: h + 1n }));
    if (!verifyEd25519(key.publicKey, fakeVoteSignBytes(CHAIN_ID, { ...last, height: h + 1n }), check.signature))
      throw new Error("signature does not verify");
    return summarize(`slashguard vote round trip (${engine})`, samples);
  } finally {
    await signer.stop();
    await node.close();
    await cleanup();
  }
}

function rawEd25519(): Promise<number[]> {
  const key = createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seedOf("raw")]),
    format: "der",
    type: "pkcs8",
  });
  const msg = Buffer.alloc(110, 1);
  return timeLoop(VOTES, () => sign(null, msg, key));
}

function rawSqliteWrite(dir: string): Promise<number[]> {
  const db = new Database(join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, h INTEGER, sig BLOB)");
  const ins = db.prepare("INSERT OR REPLACE INTO t (id, h, sig) VALUES (1, ?, ?)");
  const sig = Buffer.alloc(64, 2);
  return timeLoop(VOTES, (i) => {
    db.exec("BEGIN IMMEDIATE");
    ins.run(i, sig);
    db.exec("COMMIT");
  }).finally(() => db.close());
}

async function rawPostgresWrite(): Promise<number[]> {
  const { url, cleanup } = await freshStoreUrl("postgres");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("CREATE TABLE t (id INT PRIMARY KEY, h BIGINT, sig BYTEA)");
    const sig = Buffer.alloc(64, 2);
    return await timeLoop(VOTES, async (i) => {
      await c.query("BEGIN");
      await c.query("INSERT INTO t VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET h = $1, sig = $2", [i, sig]);
      await c.query("COMMIT");
    });
  } finally {
    await c.end();
    await cleanup();
  }
}

const dir = tempDir("sg-bench-comet-");
try {
  const rows: Row[] = [];
  rows.push(summarize("raw Ed25519 sign (node:crypto)", await rawEd25519()));
  rows.push(summarize("raw durable write, SQLite (WAL, synchronous=FULL)", await rawSqliteWrite(dir.dir)));
  rows.push(await signerLatency("sqlite", dir.dir));
  if (HAS_PG) {
    rows.push(summarize("raw durable write, PostgreSQL (one client, loopback)", await rawPostgresWrite()));
    rows.push(await signerLatency("postgres", dir.dir));
  }
  const f = (n: number): string => n.toFixed(3).padStart(9);
  console.log(`\nCometBFT vote signing, ${VOTES} sequential requests each (after ${WARMUP} warm-up)\n`);
  console.log(`| ${"what".padEnd(52)} | p50 ms    | p99 ms    | mean ms   | per second |`);
  console.log(`|${"-".repeat(54)}|-----------|-----------|-----------|------------|`);
  for (const r of rows)
    console.log(
      `| ${r.what.padEnd(52)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.mean)} | ${r.perSecond.toFixed(0).padStart(10)} |`,
    );
} finally {
  dir.cleanup();
}
