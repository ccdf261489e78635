/**
 * Ethereum remote signer over HTTP: the real `slashguard signer` process (SQLite or PostgreSQL store),
 * driven by attestation requests, beside the raw BLS signing rate of the same worker pool in the same run.
 *
 *   npm run build && node --import tsx bench/signer.ts [--validators 10000,30000] [--engines sqlite] [--epochs 2]
 *     [--slots 32] [--sustained N]
 *
 * --slots: slots per epoch the burst workload runs (a short run at 100,000 keys: --slots 4 --epochs 1);
 * --sustained: requests of the sustained workload (default: every key, each epoch).
 *
 * "burst": each slot sends N/32 concurrent requests (distinct keys) and waits for all answers;
 * "sustained": a closed loop keeping 256 requests in flight over every key.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request, setGlobalDispatcher } from "undici";
import { BlsPool } from "../src/keys/blsPool.js";
import { arg, cpuSeconds, freshPg, machine, now, stats, table } from "./lib.js";
import { body, closedLoop, keysDir, post, startSigner } from "./signerProcess.js";

const SIZES = arg("validators", "10000,30000").split(",").map(Number);
const ENGINES = arg("engines", "sqlite").split(",");
const EPOCHS = Number(arg("epochs", "2"));
const SLOTS = Number(arg("slots", "32"));
const SUSTAINED = arg("sustained", "");
const IN_FLIGHT = 256;

setGlobalDispatcher(new Agent({ connections: 512, pipelining: 1, keepAliveTimeout: 60_000 }));

function rssMb(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

interface Load {
  rate: number;
  p50: number;
  p99: number;
  /** cores the signer process and this load generator kept busy during the workload */
  signerCores: number;
  clientCores: number;
}

async function measured(pid: number, work: () => Promise<{ rate: number; p50: number; p99: number }>): Promise<Load> {
  const s0 = cpuSeconds(pid);
  const c0 = process.cpuUsage();
  const t0 = now();
  const r = await work();
  const secs = (now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { ...r, signerCores: (cpuSeconds(pid) - s0) / secs, clientCores: (c.user + c.system) / 1e6 / secs };
}

async function burst(url: string, keys: string[], first: number): Promise<{ rate: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const per = Math.ceil(keys.length / 32);
  const t0 = now();
  for (let e = first; e < first + EPOCHS; e++) {
    for (let s = 0; s < SLOTS; s++) {
      await Promise.all(
        keys.slice(s * per, (s + 1) * per).map(async (k, j) => {
          const t = now();
          await post(url, k, body(s * per + j, e));
          lat.push(now() - t);
        }),
      );
    }
  }
  return { rate: lat.length / ((now() - t0) / 1000), ...stats(lat) };
}

function sustained(url: string, keys: string[], first: number): Promise<{ rate: number; p50: number; p99: number }> {
  return closedLoop(url, keys, first, SUSTAINED === "" ? keys.length * EPOCHS : Number(SUSTAINED), IN_FLIGHT);
}

/** The same BLS pool, no HTTP and no store: the physical limit of signing on this machine. */
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

/** The first answer (builds it) and the best of three more (the cached answer), in ms. */
async function timedGets(url: string, headers: Record<string, string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t = now();
    const r = await request(url, { headers });
    await r.body.arrayBuffer();
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode}`);
    times.push(now() - t);
  }
  return [times[0]!, Math.min(...times.slice(1))];
}

const rows: (string | number)[][] = [];
const listRows: (string | number)[][] = [];
const raw = await rawBls(20_000);
rows.push(["raw BLS signing, same worker pool (no HTTP, no store)", "-", "-", raw, "-", "-", "100%", "-", "-"]);
for (const n of SIZES) {
  const keysPath = await keysDir(n);
  for (const engine of ENGINES) {
    const dir = mkdtempSync(join(tmpdir(), "sg-sbench-"));
    const pgdb = engine === "postgres" ? await freshPg("sbench") : null;
    const tokenFile = join(dir, "token");
    const { proc, url } = await startSigner(
      pgdb?.url ?? `sqlite:${join(dir, "s.db")}`,
      keysPath,
      19000 + Math.floor(Math.random() * 1000),
      tokenFile,
    );
    try {
      const keys = (await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json()) as string[];
      const token = readFileSync(tokenFile, "utf8").trim();
      listRows.push([
        `${n.toLocaleString("en-US")} keys`,
        ...(await timedGets(`${url}/api/v1/eth2/publicKeys`, {})),
        ...(await timedGets(`${url}/eth/v1/keystores`, { authorization: `Bearer ${token}` })),
      ]);
      const loaded = rssMb(proc.pid!);
      const b = await measured(proc.pid!, () => burst(url, keys, 10));
      const s = await measured(proc.pid!, () => sustained(url, keys, 10 + EPOCHS));
      const after = rssMb(proc.pid!);
      const pct = (r: number): string => `${((100 * r) / raw).toFixed(0)}%`;
      const cores = (l: Load): string => `${l.signerCores.toFixed(2)} / ${l.clientCores.toFixed(2)}`;
      rows.push([
        `slashguard ${engine}, ${n.toLocaleString("en-US")} keys`,
        "burst",
        Math.ceil(n / 32),
        b.rate,
        b.p50,
        b.p99,
        pct(b.rate),
        cores(b),
        `${loaded.rss.toFixed(0)} / ${after.peak.toFixed(0)}`,
      ]);
      rows.push([
        `slashguard ${engine}, ${n.toLocaleString("en-US")} keys`,
        "sustained",
        IN_FLIGHT,
        s.rate,
        s.p50,
        s.p99,
        pct(s.rate),
        cores(s),
        `${loaded.rss.toFixed(0)} / ${after.peak.toFixed(0)}`,
      ]);
    } finally {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
      await pgdb?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
console.log(
  `\nEthereum remote signer over HTTP (attestations), ${EPOCHS} epochs per workload\nmachine: ${machine()}\n`,
);
console.log(
  table(
    [
      "run",
      "workload",
      "concurrency",
      "signatures/s",
      "p50 ms",
      "p99 ms",
      "of raw BLS",
      "CPU cores signer / load generator",
      "RSS MB loaded / peak",
    ],
    rows,
  ),
);
console.log(
  `\n${table(["keys", "publicKeys first ms", "publicKeys then ms", "keymanager list first ms", "keymanager list then ms"], listRows)}`,
);
