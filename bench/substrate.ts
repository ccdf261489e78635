// Substrate remote-signer benchmark: GRANDPA votes (ed25519) and BABE seals (sr25519) over gRPC with
// protection on SQLite and PostgreSQL, beside the raw signing rate of the same crypto library and a raw
// durable write, in the same run; VRF slot claims for 1,000 authorities of which 10 are ours.
// Run: npm run build && node --import tsx bench/substrate.ts [--n 2000] [--concurrency 64]
import { type ChildProcess, spawn } from "node:child_process";
import { createPrivateKey, sign as edSign } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { sr25519KeypairFromSeed, sr25519Sign, waitReady } from "@polkadot/wasm-crypto";
import Database from "better-sqlite3";
import pg from "pg";
import { blake2_256, encodeHeader } from "../src/chains/substrate/babe.js";
import { encodeGrandpaPayload } from "../src/chains/substrate/grandpa.js";
import { GrandpaStage } from "../src/chains/substrate/types.js";

const ROOT = resolve(import.meta.dirname, "..");
const PROTO = join(ROOT, "src/grpc/substrate-remote-keystore.proto");
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("n", 2000);
const CONCURRENCY = arg("concurrency", 64);
const PG_ADMIN = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const ALICE_GRAN = Buffer.from("88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee", "hex");
const ALICE_BABE = Buffer.from("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", "hex");
const DEV = "bottom drive obey lake curtain smoke basket hold race lonely fit walk//Alice";

interface Stats {
  p50: number;
  p99: number;
  perSec: number;
}

function stats(latMs: number[], wallMs: number): Stats {
  const s = [...latMs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p99: q(0.99), perSec: (latMs.length / wallMs) * 1000 };
}

async function measure(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<Stats> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await op(i);
        lat.push(performance.now() - t);
      }
    }),
  );
  return stats(lat, performance.now() - t0);
}

// ---------- the signer under test: the real CLI in its own process ----------

interface Signer {
  proc: ChildProcess;
  address: string;
  http: string;
}

async function startSigner(dbUrl: string, keystore: string, work: string): Promise<Signer> {
  const cfg = join(work, `cfg-${Date.now()}.yaml`);
  writeFileSync(cfg, "http:\n  port: 0\nsubstrate:\n  grpc:\n    port: 0\n");
  const proc = spawn(
    process.execPath,
    [
      // e.g. SIGNER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the signer under load
      ...(process.env.SIGNER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      join(ROOT, "dist/cli/main.js"),
      "signer",
      "--config",
      cfg,
      "--db",
      dbUrl,
      "--substrate-keystore",
      keystore,
      "--log-level",
      "error",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const [address, http] = await new Promise<[string, string]>((res, rej) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /gRPC RemoteKeystore listening on (\S+)/.exec(out);
      const h = /signer listening on (\S+)/.exec(out);
      if (m && h) res([m[1]!, h[1]!]);
    });
    proc.on("exit", (c) => rej(new Error(`signer exited ${c}`)));
  });
  return { proc, address, http };
}

type Client = grpc.Client &
  Record<string, (req: object, cb: (e: grpc.ServiceError | null, r: Record<string, unknown>) => void) => void>;

function clients(address: string, n: number): Client[] {
  const def = protoLoader.loadSync(PROTO, {
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    parity: {
      polkadot: { signer: { RemoteKeystore: new (a: string, c: grpc.ChannelCredentials, o: object) => Client } };
    };
  };
  // separate channels (one per simulated node connection)
  return Array.from(
    { length: n },
    (_, i) =>
      new pkg.parity.polkadot.signer.RemoteKeystore(address, grpc.credentials.createInsecure(), { "grpc.dummy": i }),
  );
}

const rpc = (c: Client, method: string, req: object): Promise<Record<string, unknown>> =>
  new Promise((res, rej) => c[method]!(req, (e, r) => (e ? rej(e) : res(r))));

function grandpaReq(i: number, run: number) {
  const message = encodeGrandpaPayload({
    stage: GrandpaStage.Prevote,
    targetHash: new Uint8Array(32).fill(i & 0xff),
    targetNumber: BigInt(i),
    round: BigInt(i + 1),
    setId: BigInt(run),
  });
  return { key_type: "gran", crypto_type: "ed25519", public_key: ALICE_GRAN, message: Buffer.from(message) };
}

function babeReq(slot: number) {
  const digest = new Uint8Array([0x04, 0x06, 0x42, 0x41, 0x42, 0x45, 0x34, 0x02, 7, 0, 0, 0, ...new Uint8Array(8)]);
  new DataView(digest.buffer).setBigUint64(digest.length - 8, BigInt(slot), true);
  const p = {
    parentHash: new Uint8Array(32).fill(1),
    number: BigInt(slot),
    stateRoot: new Uint8Array(32),
    extrinsicsRoot: new Uint8Array(32),
    digest,
  };
  return {
    key_type: "babe",
    crypto_type: "sr25519",
    public_key: ALICE_BABE,
    message: Buffer.from(blake2_256(encodeHeader(p))),
    payload: {
      block_proposal: {
        parent_hash: Buffer.from(p.parentHash),
        number: String(slot),
        state_root: Buffer.alloc(32),
        extrinsics_root: Buffer.alloc(32),
        digest: Buffer.from(digest),
      },
    },
  };
}

function checkSigned(r: Record<string, unknown>): void {
  const s = r.signature as { signature?: Buffer; error?: number };
  if (s.signature?.length !== 64) throw new Error(`not signed: error ${s.error}`);
}

// ---------- physical limits ----------

function rawEd25519PerSec(n: number): number {
  const seed = Buffer.alloc(32, 7);
  const key = createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
    format: "der",
    type: "pkcs8",
  });
  const msg = Buffer.alloc(53, 1);
  const t = performance.now();
  for (let i = 0; i < n; i++) edSign(null, msg, key);
  return (n / (performance.now() - t)) * 1000;
}

function rawSr25519PerSec(n: number): number {
  const kp = sr25519KeypairFromSeed(new Uint8Array(32).fill(7));
  const msg = new Uint8Array(32).fill(1);
  const t = performance.now();
  for (let i = 0; i < n; i++) sr25519Sign(kp.slice(64), kp.slice(0, 64), msg);
  return (n / (performance.now() - t)) * 1000;
}

function rawSqliteWrite(dir: string, n: number): Stats {
  const db = new Database(join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
  const ins = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    db.exec("BEGIN IMMEDIATE");
    ins.run(i, Buffer.alloc(32, i & 0xff));
    db.exec("COMMIT");
    lat.push(performance.now() - t);
  }
  const s = stats(lat, performance.now() - t0);
  db.close();
  return s;
}

async function rawPgWrite(url: string, n: number): Promise<Stats> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("CREATE TABLE raw_t (k INTEGER PRIMARY KEY, v BYTEA)");
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.query("INSERT INTO raw_t (k, v) VALUES ($1, $2)", [i, Buffer.alloc(32, i & 0xff)]);
    lat.push(performance.now() - t);
  }
  const s = stats(lat, performance.now() - t0);
  await c.end();
  return s;
}

async function pgDatabase(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const name = `sg_bench_${process.pid}_${Date.now().toString(36)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = new pg.Client({ connectionString: PG_ADMIN });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

// ---------- the run ----------

const fmt = (v: number, d = 2): string => (v >= 100 ? v.toFixed(0) : v.toFixed(d));
const rows: string[][] = [];
const row = (...cells: (string | number)[]): void => {
  rows.push(cells.map((c) => (typeof c === "number" ? fmt(c) : c)));
};

async function benchEngine(engine: string, dbUrl: string, ks: string, work: string, rawWrite: Stats): Promise<void> {
  const signer = await startSigner(dbUrl, ks, work);
  const cs = clients(signer.address, CONCURRENCY);
  try {
    // warm-up: key registration, JIT, connections
    await Promise.all(cs.map((c, i) => rpc(c, "SignWith", grandpaReq(i, 0)).then(checkSigned)));
    // and the one-at-a-time path, as a node runs it (otherwise the first row's tail is JIT warm-up)
    for (let i = CONCURRENCY; i < CONCURRENCY + 200; i++) checkSigned(await rpc(cs[0]!, "SignWith", grandpaReq(i, 0)));
    const edRaw = rawEd25519PerSec(5000);
    const srRaw = rawSr25519PerSec(2000);
    const inside0 = await serverBuckets(signer.http, "SignWith");
    const gSeq = await measure(N, 1, (i) => rpc(cs[0]!, "SignWith", grandpaReq(i, 1)).then(checkSigned));
    const inside = insideShares(inside0, await serverBuckets(signer.http, "SignWith"));
    process.stdout.write(
      `GRANDPA 1 in flight (${engine}), time inside the signer (decoded request to reply sent): ${inside}\n`,
    );
    const gPar = await measure(N, CONCURRENCY, (i) =>
      rpc(cs[i % CONCURRENCY]!, "SignWith", grandpaReq(i, 2)).then(checkSigned),
    );
    const bSeq = await measure(N, 1, (i) => rpc(cs[0]!, "SignWith", babeReq(i)).then(checkSigned));
    const bPar = await measure(N, CONCURRENCY, (i) =>
      rpc(cs[i % CONCURRENCY]!, "SignWith", babeReq(N + i)).then(checkSigned),
    );
    row(
      `GRANDPA prevote, 1 in flight`,
      engine,
      gSeq.p50,
      gSeq.p99,
      gSeq.perSec,
      `ed25519 ${fmt(edRaw)}/s`,
      `${fmt(rawWrite.perSec)}/s (p99 ${fmt(rawWrite.p99)} ms)`,
    );
    row(
      `GRANDPA prevote, ${CONCURRENCY} in flight`,
      engine,
      gPar.p50,
      gPar.p99,
      gPar.perSec,
      `ed25519 ${fmt(edRaw)}/s`,
      `${fmt(rawWrite.perSec)}/s`,
    );
    row(
      `BABE seal, 1 in flight`,
      engine,
      bSeq.p50,
      bSeq.p99,
      bSeq.perSec,
      `sr25519 ${fmt(srRaw)}/s`,
      `${fmt(rawWrite.perSec)}/s (p99 ${fmt(rawWrite.p99)} ms)`,
    );
    row(
      `BABE seal, ${CONCURRENCY} in flight`,
      engine,
      bPar.p50,
      bPar.p99,
      bPar.perSec,
      `sr25519 ${fmt(srRaw)}/s`,
      `${fmt(rawWrite.perSec)}/s`,
    );
    if (engine === "sqlite") await benchVrf(cs[0]!, signer.http);
  } finally {
    for (const c of cs) c.close();
    signer.proc.kill("SIGTERM");
    await new Promise((r) => signer.proc.on("exit", r));
  }
}

/** Cumulative bucket counts (upper bound in seconds -> calls) of the signer's own histogram for one method. */
async function serverBuckets(http: string, method: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const re = new RegExp(
    `slashguard_substrate_grpc_request_seconds_bucket\\{le="([^"]+)",method="${method}"\\} (\\S+)`,
    "g",
  );
  return new Map([...text.matchAll(re)].map((m) => [m[1]!, Number(m[2])]));
}

/** Share of the calls between two histogram reads that finished within 1, 2 and 5 ms inside the signer. */
function insideShares(before: Map<string, number>, after: Map<string, number>): string {
  const n = (after.get("+Inf") ?? 0) - (before.get("+Inf") ?? 0);
  const within = (le: string): string =>
    ((((after.get(le) ?? 0) - (before.get(le) ?? 0)) * 100) / Math.max(1, n)).toFixed(1);
  return `${within("0.001")}% within 1 ms, ${within("0.002")}% within 2 ms, ${within("0.005")}% within 5 ms (n=${n})`;
}

/** Sum and count of the signer's own Sr25519VrfSign latency histogram (server side, no client or network). */
async function serverVrfSeconds(http: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const pick = (suffix: string): number =>
    Number(
      new RegExp(`slashguard_substrate_grpc_request_seconds_${suffix}\\{method="Sr25519VrfSign"\\} (\\S+)`).exec(
        text,
      )?.[1] ?? 0,
    );
  return { sum: pick("sum"), count: pick("count") };
}

/** One BABE slot: the node asks the keystore about every authority; 10 of 1,000 are ours. */
async function benchVrf(c: Client, http: string): Promise<void> {
  const authorities = Array.from({ length: 1000 }, (_, i) =>
    i % 100 === 0 ? ALICE_BABE : Buffer.alloc(32, (i % 255) + 1),
  );
  const transcript = (slot: number) => ({
    label: "BABE",
    values: [
      { label: "slot number", uint64_value: String(slot) },
      { label: "current epoch", uint64_value: "100" },
      { label: "chain randomness", bytes_value: Buffer.alloc(32, 3) },
    ],
  });
  const unknown: number[] = [];
  const own: number[] = [];
  const slots = 5;
  const t0 = performance.now();
  for (let slot = 0; slot < slots; slot++) {
    for (const pub of authorities) {
      const t = performance.now();
      await rpc(c, "Sr25519VrfSign", { key_type: "babe", public_key: pub, transcript_data: transcript(slot) });
      (pub === ALICE_BABE ? own : unknown).push(performance.now() - t);
    }
  }
  const wall = performance.now() - t0;
  const u = stats(unknown, wall);
  const o = stats(own, wall);
  // server-side time of an unknown-key answer: a pass of unknown keys only, read from the signer's histogram
  const before = await serverVrfSeconds(http);
  for (let i = 0; i < 2000; i++) {
    await rpc(c, "Sr25519VrfSign", {
      key_type: "babe",
      public_key: Buffer.alloc(32, (i % 250) + 1),
      transcript_data: transcript(i),
    });
  }
  const after = await serverVrfSeconds(http);
  const serverMeanMs = ((after.sum - before.sum) / (after.count - before.count)) * 1000;
  process.stdout.write(
    `VRF: unknown-key answer inside the signer (decode to reply, mean of 2000): ${serverMeanMs.toFixed(4)} ms\n`,
  );
  row("VRF claim, unknown key (990 per slot)", "-", u.p50, u.p99, (slots * 1000 * 1000) / wall, "-", "-");
  row("VRF claim, own key (10 per slot)", "-", o.p50, o.p99, (slots * 1000 * 1000) / wall, "-", "-");
  process.stdout.write(
    `VRF: one slot of 1,000 authority claims takes ${fmt(wall / slots)} ms (${fmt((slots * 1000 * 1000) / wall)} claims/s)\n`,
  );
}

async function main(): Promise<void> {
  await waitReady();
  const work = mkdtempSync(join(tmpdir(), "sg-bench-sub-"));
  const ks = join(work, "keystore");
  mkdirSync(ks);
  writeFileSync(join(ks, `6772616e${ALICE_GRAN.toString("hex")}`), JSON.stringify(DEV));
  writeFileSync(join(ks, `62616265${ALICE_BABE.toString("hex")}`), JSON.stringify(DEV));
  try {
    process.stdout.write(
      `machine: ${cpus().length} cores (${cpus()[0]?.model}), node ${process.version}; n=${N}, concurrency=${CONCURRENCY}\n`,
    );
    await benchEngine("sqlite", `sqlite:${join(work, "signer.db")}`, ks, work, rawSqliteWrite(work, N));
    const pgDb = await pgDatabase();
    if (pgDb === null) process.stdout.write("PostgreSQL not reachable: PostgreSQL rows skipped\n");
    else {
      try {
        await benchEngine("postgres", pgDb.url, ks, work, await rawPgWrite(pgDb.url, N));
      } finally {
        await pgDb.drop();
      }
    }
    const head = [
      "what",
      "store",
      "p50 ms",
      "p99 ms",
      "ours /s",
      "limit: raw sign (same library)",
      "limit: raw durable write",
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    process.stdout.write(
      `\n${line(head)}\n|${widths.map((w) => "-".repeat(w + 2)).join("|")}|\n${rows.map(line).join("\n")}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
