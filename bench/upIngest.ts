/**
 * Agent reports under `slashguard up` (signer and monitor in one process, one SQLite file): signing
 * latency while one host's reports swap a set of keys back and forth, beside the same signing load with
 * no reports in the same run (the peer), and the database size the churn leaves.
 *
 *   npm run build && node --import tsx bench/upIngest.ts [--keys 5200] [--reports 10] [--rate 200]
 *
 * With --reports above 10 it also prints the database size every 10 reports (growth under churn).
 *
 * Signing: the demo keys of `up`, one attestation after the other per key, paced to --rate requests/s
 * in total. Reports: Ethereum keys (the largest key entry), set A and set B alternately, each sent when
 * the previous one was answered (a 429 is retried after its Retry-After, as the agent does).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Agent, request, setGlobalDispatcher } from "undici";
import { arg, machine, now, stats, table } from "./lib.js";

const KEYS = Number(arg("keys", "5200"));
const REPORTS = Number(arg("reports", "10"));
const RATE = Number(arg("rate", "200"));
const BASELINE_S = Number(arg("baseline", "8"));
const REPO = resolve(import.meta.dirname, "..");
const CLI = join(REPO, "dist", "cli", "main.js");
const MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";

setGlobalDispatcher(new Agent({ connections: 64, keepAliveTimeout: 60_000 }));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function startUp(dir: string, port: number): Promise<{ proc: ChildProcess; url: string }> {
  return new Promise((res, rej) => {
    const proc = spawn(
      process.execPath,
      [
        ...(process.env.UP_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
        CLI,
        "up",
        "--data-dir",
        dir,
        "--port",
        String(port),
        "--no-agent",
      ],
      { stdio: ["ignore", "pipe", "ignore"], env: { ...process.env } },
    );
    let out = "";
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /slashguard is up: (\S+)/.exec(out);
      if (m) res({ proc, url: m[1]! });
    });
    proc.on("exit", (c) => rej(new Error(`up exited ${c}`)));
  });
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(64, "0")}`;
function attestation(epoch: number): string {
  return JSON.stringify({
    type: "ATTESTATION",
    fork_info: {
      fork: { previous_version: "0x05000000", current_version: "0x06000000", epoch: "411392" },
      genesis_validators_root: MAINNET_GVR,
    },
    attestation: {
      slot: String(epoch * 32),
      index: "0",
      beacon_block_root: hex32(epoch),
      source: { epoch: String(epoch - 1), root: hex32(1) },
      target: { epoch: String(epoch), root: hex32(epoch) },
    },
  });
}

const ekey = (set: number, i: number): string => `0x${set + 1}${i.toString(16).padStart(95, "0")}`;
function reportBody(set: number, n: number): string {
  // short source id: 5,200 keys then fit the 1 MiB limit of the code before this bench
  const source = "ethereum:vc";
  return JSON.stringify({
    version: 1,
    host: "churn-host",
    agent_version: "bench",
    interval_ms: 15_000,
    observed_at: Date.now(),
    sources: [{ id: source, chain: "ethereum", reachable: true, info: { local_keys: n, remote_keys: 0 } }],
    keys: Array.from({ length: n }, (_, i) => ({
      chain: "ethereum",
      pubkey: ekey(set, i),
      key_type: "bls",
      source,
      facts: { source: "local", signer_url: null, readonly: false },
    })),
  });
}

interface Sample {
  at: number;
  ms: number;
}

/** One closed loop per key, paced so that all of them together send `RATE` requests a second. */
function signingLoad(url: string, keys: string[], stop: { done: boolean }): { samples: Sample[]; run: Promise<void> } {
  const samples: Sample[] = [];
  const gapMs = (1000 * keys.length) / RATE;
  let epoch = 500_000;
  const loop = async (key: string): Promise<void> => {
    let next = now();
    while (!stop.done) {
      const t0 = now();
      const r = await request(`${url}/api/v1/eth2/sign/${key}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: attestation(++epoch),
      });
      await r.body.arrayBuffer();
      if (r.statusCode !== 200) throw new Error(`sign answered ${r.statusCode}`);
      samples.push({ at: t0, ms: now() - t0 });
      next += gapMs;
      const wait = next - now();
      if (wait > 0) await new Promise((r2) => setTimeout(r2, wait));
      else next = now();
    }
  };
  const run = Promise.all(keys.map(loop)).then(() => undefined);
  run.catch(() => {
    stop.done = true;
  });
  return { samples, run };
}

function dbBytes(dir: string): number {
  let n = 0;
  for (const f of ["slashguard.db", "slashguard.db-wal"]) {
    try {
      n += statSync(join(dir, f)).size;
    } catch {
      // no WAL yet
    }
  }
  return n;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sg-up-ingest-"));
  const { proc, url } = await startUp(dir, await freePort());
  try {
    const keys = (await (await request(`${url}/api/v1/eth2/publicKeys`)).body.json()) as string[];
    const token = readFileSync(join(dir, "agent-token"), "utf8").trim();
    // the host exists and holds set B before the measurement (its first report is not churn)
    await request(`${url}/api/v1/agent/reports`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: reportBody(1, KEYS),
    }).then((r) => r.body.arrayBuffer());
    const sizeBefore = dbBytes(dir);
    const stop = { done: false };
    const load = signingLoad(url, keys, stop);
    await new Promise((r) => setTimeout(r, BASELINE_S * 1000));
    const churnStart = now();
    const ingest: number[] = [];
    const growth: string[] = [];
    let refused = 0;
    for (let i = 0; i < REPORTS; i++) {
      const body = reportBody(i % 2, KEYS);
      for (;;) {
        const t0 = now();
        const r = await request(`${url}/api/v1/agent/reports`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body,
        });
        if (r.statusCode === 429) {
          await r.body.arrayBuffer();
          refused++;
          await new Promise((w) => setTimeout(w, 1000 * Number(r.headers["retry-after"] ?? 1)));
          continue;
        }
        if (r.statusCode >= 300) throw new Error(`report answered ${r.statusCode}: ${await r.body.text()}`);
        await r.body.arrayBuffer();
        ingest.push(now() - t0);
        break;
      }
      if ((i + 1) % 10 === 0 && REPORTS > 10) growth.push((dbBytes(dir) / 2 ** 20).toFixed(1));
    }
    const churnEnd = now();
    if (growth.length > 0) console.log(`\ndatabase + WAL after each 10 reports (MB): ${growth.join(", ")}`);
    await new Promise((r) => setTimeout(r, 1000));
    stop.done = true;
    await load.run;
    const base = stats(load.samples.filter((s) => s.at < churnStart).map((s) => s.ms));
    const churn = stats(load.samples.filter((s) => s.at >= churnStart && s.at <= churnEnd).map((s) => s.ms));
    const ing = stats(ingest);
    console.log(
      `\n${machine()}; ${KEYS} Ethereum keys swapped by ${REPORTS} reports; signing ${RATE}/s over ${keys.length} keys\n`,
    );
    console.log(
      table(
        ["phase", "signing p50 ms", "signing p99 ms", "signing max ms", "requests"],
        [
          ["no reports (peer)", base.p50, base.p99, base.max, load.samples.filter((s) => s.at < churnStart).length],
          [
            `${REPORTS} reports swapping ${KEYS} keys`,
            churn.p50,
            churn.p99,
            churn.max,
            load.samples.filter((s) => s.at >= churnStart && s.at <= churnEnd).length,
          ],
        ],
      ),
    );
    console.log(
      `\nreport answered in p50 ${ing.p50.toFixed(0)} ms, max ${ing.max.toFixed(0)} ms; 429 answers: ${refused}; ` +
        `churn phase ${((churnEnd - churnStart) / 1000).toFixed(1)} s`,
    );
    console.log(
      `database + WAL: ${(sizeBefore / 2 ** 20).toFixed(1)} MB before the churn, ${(dbBytes(dir) / 2 ** 20).toFixed(1)} MB after`,
    );
  } finally {
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
