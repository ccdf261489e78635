/**
 * Threshold signing (Ethereum, BLS): N real `slashguard signer --cluster` processes on this machine
 * (2-of-3 and 3-of-5, each node with its own SQLite store), driven over HTTP through node 1 by
 * attestation requests for many group keys; beside it in the same run the single-node signer with
 * whole keys and the raw BLS rate of the same worker pool.
 *
 *   npm run build && node --import tsx bench/threshold.ts [--validators 10000] [--configs 2-of-3,3-of-5] [--epochs 1]
 *
 * "burst": each slot's N/32 requests at once (distinct keys); "sustained": 256 requests in flight.
 * All nodes share the machine's cores: a 2-of-3 request costs three BLS signatures' worth of work
 * (two partials and one verification), on the same two cores that the single node uses for one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Agent, request, setGlobalDispatcher } from "undici";
import { BlsPool } from "../src/keys/blsPool.js";
import { arg, machine, now, stats, table } from "./lib.js";
import { body, GVR } from "./signerProcess.js";

const N_KEYS = Number(arg("validators", "10000"));
const CONFIGS = arg("configs", "2-of-3,3-of-5")
  .split(",")
  .map((c) => c.split("-of-").map(Number) as [number, number]);
const EPOCHS = Number(arg("epochs", "1"));
const IN_FLIGHT = 256;
const CLI = join(resolve(import.meta.dirname, ".."), "dist", "cli", "main.js");
const CACHE = join(tmpdir(), "slashguard-bench-threshold");
const NET = ["--network", "custom", "--genesis-validators-root", GVR, "--no-doppelganger", "--log-level", "warn"];

setGlobalDispatcher(new Agent({ connections: 512, pipelining: 1, keepAliveTimeout: 60_000 }));

function run(cmd: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [CLI, ...cmd], { stdio: ["ignore", "ignore", "inherit"] });
    c.on("exit", (code) => (code === 0 ? res() : rej(new Error(`${cmd.slice(0, 2).join(" ")} exited ${code}`))));
  });
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** A cluster with K group keys (light KDF), made once per shape and reused between runs. */
async function cluster(t: number, n: number): Promise<string> {
  const dir = join(CACHE, `${t}-of-${n}-${N_KEYS}`);
  if (existsSync(join(dir, "done"))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  await run(["cluster", "init", "--nodes", ports.map((p) => `127.0.0.1:${p}`).join(","), "--out", dir]);
  await run([
    "keys",
    "generate",
    "--threshold",
    String(t),
    "--shares",
    String(n),
    "--cluster",
    join(dir, "cluster.yaml"),
    "--out",
    dir,
    "--count",
    String(N_KEYS),
    "--kdf",
    "pbkdf2",
    "--kdf-work",
    "2",
  ]);
  mkdirSync(join(dir, "done"));
  return dir;
}

async function wholeKeys(): Promise<string> {
  const dir = join(CACHE, `whole-${N_KEYS}`);
  if (!existsSync(dir) || readdirSync(dir).filter((f) => f.endsWith(".json")).length < N_KEYS) {
    rmSync(dir, { recursive: true, force: true });
    await run(["keys", "generate", "--count", String(N_KEYS), "--out", dir, "--kdf", "pbkdf2", "--kdf-work", "2"]);
  }
  return dir;
}

function startSigner(args: string[]): Promise<{ proc: ChildProcess; url: string }> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, [CLI, "signer", "--port", "0", "--no-keymanager", ...NET, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /slashguard signer listening on (\S+)/.exec(out);
      if (m) res({ proc, url: m[1]! });
    });
    proc.on("exit", (c) => rej(new Error(`signer exited ${c}`)));
  });
}

/** True when signed; a 503 (too few partials within the deadline) is counted, anything else is a bench failure. */
async function post(url: string, key: string, b: string): Promise<boolean> {
  const r = await request(`${url}/api/v1/eth2/sign/${key}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: b,
  });
  await r.body.arrayBuffer();
  if (r.statusCode === 503) return false;
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
  return true;
}

/** rate: signatures released per second; unsigned: requests answered 503 (not in the latency figures). */
type Result = { rate: number; p50: number; p99: number; unsigned: number };

async function burst(url: string, keys: string[], first: number): Promise<Result> {
  const lat: number[] = [];
  let unsigned = 0;
  const per = Math.ceil(keys.length / 32);
  const t0 = now();
  for (let e = first; e < first + EPOCHS; e++) {
    for (let s = 0; s < 32; s++) {
      await Promise.all(
        keys.slice(s * per, (s + 1) * per).map(async (k, j) => {
          const t = now();
          if (await post(url, k, body(s * per + j, e))) lat.push(now() - t);
          else unsigned++;
        }),
      );
    }
  }
  return { rate: lat.length / ((now() - t0) / 1000), ...stats(lat), unsigned };
}

async function sustained(url: string, keys: string[], first: number): Promise<Result> {
  const lat: number[] = [];
  let unsigned = 0;
  const total = keys.length * EPOCHS;
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (;;) {
        const n = next++;
        if (n >= total) return;
        const t = now();
        if (await post(url, keys[n % keys.length]!, body(n % keys.length, first + Math.floor(n / keys.length))))
          lat.push(now() - t);
        else unsigned++;
      }
    }),
  );
  return { rate: lat.length / ((now() - t0) / 1000), ...stats(lat), unsigned };
}

async function rawBls(n: number): Promise<number> {
  const pool = new BlsPool();
  const { SecretKey } = (await import("@chainsafe/blst")).default;
  pool.addKeys(
    Array.from({ length: 64 }, (_, i) => ({
      id: i + 1,
      secret: SecretKey.fromKeygen(new Uint8Array(32).fill(i + 1)).toBytes(),
    })),
  );
  const root = new Uint8Array(32).fill(7);
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < n) await pool.sign((next % 64) + 1, root);
    }),
  );
  const rate = n / ((now() - t0) / 1000);
  await pool.close();
  return rate;
}

async function stopAll(procs: ChildProcess[]): Promise<void> {
  for (const p of procs) {
    p.kill("SIGTERM");
    await new Promise((r) => p.once("exit", r));
  }
}

async function measure(
  label: string,
  url: string,
  rows: (string | number)[][],
  single: Result[] | null,
): Promise<Result[]> {
  const keys = (await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json()) as string[];
  const b = await burst(url, keys, 10);
  const s = await sustained(url, keys, 10 + EPOCHS);
  const ratio = (r: number, i: number): string => (single === null ? "1.00" : (r / single[i]!.rate).toFixed(2));
  rows.push([label, "burst", Math.ceil(keys.length / 32), b.rate, b.p50, b.p99, b.unsigned, ratio(b.rate, 0)]);
  rows.push([label, "sustained", IN_FLIGHT, s.rate, s.p50, s.p99, s.unsigned, ratio(s.rate, 1)]);
  return [b, s];
}

const rows: (string | number)[][] = [];
const raw = await rawBls(20_000);
rows.push(["raw BLS signing, same worker pool (no HTTP, no store)", "-", "-", raw, "-", "-", "-", "-"]);
const work = mkdtempSync(join(tmpdir(), "sg-tbench-"));
let single: Result[] | null = null;
{
  const s = await startSigner(["--db", `sqlite:${join(work, "single.db")}`, "--keystores", await wholeKeys()]);
  try {
    single = await measure(`single-node signer, ${N_KEYS.toLocaleString("en-US")} keys`, s.url, rows, null);
  } finally {
    await stopAll([s.proc]);
  }
}
for (const [t, n] of CONFIGS) {
  const dir = await cluster(t, n);
  const nodes = await Promise.all(
    Array.from({ length: n }, (_, k) =>
      startSigner([
        "--db",
        `sqlite:${join(work, `${t}-${n}-node-${k + 1}.db`)}`,
        "--cluster",
        join(dir, "cluster.yaml"),
        "--node",
        String(k + 1),
        "--keystores",
        join(dir, `share-${k + 1}`),
        "--bls-threads",
        "1",
        "--keymanager-token-file",
        join(work, `token-${k}`),
      ]),
    ),
  );
  try {
    await new Promise((r) => setTimeout(r, 3000)); // first probes: peers known reachable
    await measure(
      `threshold ${t}-of-${n}, ${N_KEYS.toLocaleString("en-US")} group keys, via node 1`,
      nodes[0]!.url,
      rows,
      single,
    );
  } finally {
    await stopAll(nodes.map((x) => x.proc));
  }
}
rmSync(work, { recursive: true, force: true });
console.log(`\nThreshold signing over HTTP (attestations), ${EPOCHS} epoch(s) per workload\nmachine: ${machine()}\n`);
console.log(
  table(
    ["run", "workload", "concurrency", "signatures/s", "p50 ms", "p99 ms", "503 (unsigned)", "of single-node"],
    rows,
  ),
);
