// Fleet monitor benchmark (run `npm run build` first; the monitor runs from dist/ as its own process):
//   node --import tsx bench/monitor.ts [--hosts 10000] [--keys 10] [--seconds 30] [--db postgres://…]
// 1. ingestion: every host reports every 15 s (hosts/15 reports/s) sustained, plus the most the monitor takes;
// 2. time to alert: a second host reports a key another host signs with → webhook delivery, p99;
// 3. beside them, the engine's raw insert rate in the same run (physical limit);
// 4. a full detection pass over 100,000 keys in batches of 1,000 on worker threads, beside a plain loop.
import { spawn } from "node:child_process";
import { Agent, createServer, request } from "node:http";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { FleetDetector } from "../src/detect/fleet/fleetDetector.js";
import type { KeyGroup, Observation } from "../src/detect/types.js";
import { TokenService } from "../src/fleet/tokens.js";
import { openStore } from "../src/store/openStore.js";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const HOSTS = Number(arg("hosts", "10000"));
const KEYS = Number(arg("keys", "10"));
const SECONDS = Number(arg("seconds", "30"));
const INTERVAL_MS = 15_000;
const ADMIN = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const ROOT = join(import.meta.dirname, "..");

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const fmt = (n: number): string =>
  !Number.isFinite(n)
    ? "-"
    : Math.abs(n) >= 1000
      ? Math.round(n).toLocaleString("en-US")
      : Math.abs(n) >= 10
        ? n.toFixed(1)
        : n.toFixed(2);
function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const w = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i]).length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
  return [
    line(headers),
    `|${w.map((x) => "-".repeat(x + 2)).join("|")}|`,
    ...cells.map((r) => line(r.map(String))),
  ].join("\n");
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hkey = (n: number) => `0x${n.toString(16).padStart(12, "0").repeat(8)}`;

function reportOf(host: number, keys: number[], intervalMs = INTERVAL_MS, observedAt = Date.now()) {
  return JSON.stringify({
    version: 1,
    host: `h${String(host).padStart(5, "0")}`,
    agent_version: "bench",
    interval_ms: intervalMs,
    observed_at: observedAt,
    sources: [
      {
        id: "harmony:http://127.0.0.1:9500",
        chain: "harmony",
        reachable: true,
        info: { network: "mainnet", shard_id: 0 },
      },
    ],
    keys: keys.map((k) => ({
      chain: "harmony",
      pubkey: hkey(k),
      key_type: "bls",
      source: "harmony:http://127.0.0.1:9500",
      facts: { loaded: true, mode: "Normal", is_backup: false, shard_id: 0 },
    })),
  });
}

async function main(): Promise<void> {
  const own = !process.argv.includes("--db");
  let db = arg("db", "");
  if (own) {
    const name = `sg_bench_${Date.now().toString(36)}`;
    const c = new pg.Client({ connectionString: ADMIN });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    const u = new URL(ADMIN);
    u.pathname = `/${name}`;
    db = u.toString();
  }
  const store = await openStore(db);
  const token = (await new TokenService(store).create("bench", "agent")).token;
  const operator = (await new TokenService(store).create("bench", "operator")).token;
  await store.close();

  // Webhook receiver: when did each double_active for a key arrive?
  const alertAt = new Map<string, number>();
  const hook = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const n = JSON.parse(body) as { action: string; alert: { kind: string; pubkey: string } };
      if (n.action === "trigger" && n.alert.kind === "double_active" && !alertAt.has(n.alert.pubkey))
        alertAt.set(n.alert.pubkey, performance.now());
      res.end("{}");
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}`;

  // The receiver takes every alert at once (rate limit out of the way): what is measured is detection.
  const configDoc = `monitor:\n  sweep_interval: 5s\n  notification_poll: 200ms\n  detect_workers: 1\nsinks:\n  - type: webhook\n    url: ${hookUrl}\n    rate: { per_second: 1000, burst: 1000 }\n`;
  ("monitor:\n  sweep_interval: 5s\n  notification_poll: 200ms\n  detect_workers: 1\n  max_report_bytes: 1048576\n");
  const cfgFile = join(ROOT, "bench", "out", "monitor-bench.yaml");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  mkdirSync(join(ROOT, "bench", "out"), { recursive: true });
  writeFileSync(cfgFile, configDoc);
  const mon = spawn(
    process.execPath,
    [join(ROOT, "dist/cli/main.js"), "monitor", "--db", db, "--port", "0", "--config", cfgFile, "--log-level", "error"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve) => {
    mon.stdout.on("data", (d: Buffer) => {
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
  });
  // node:http with keep-alive: a light client, so the load generator takes little of the shared CPU.
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const target0 = new URL(`${url}/api/v1/agent/reports`);
  const post = (body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = request(
        {
          agent,
          host: target0.hostname,
          port: target0.port,
          path: target0.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${token}`,
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            res.statusCode === 202 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const keysOf = (h: number) => Array.from({ length: KEYS }, (_, i) => h * KEYS + i);
  const pool = async (n: number, conc: number, fn: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < n) await fn(next++);
      }),
    );
  };

  // Phase 1: every host's first report (inventories written, history opened).
  let t = performance.now();
  // (A long interval in these: registering 10,000 hosts takes longer than 3 intervals of 15 s, and the
  // first hosts must not count as silent before their turn in the sustained phase comes.)
  await pool(HOSTS, 32, (h) => post(reportOf(h, keysOf(h), 600_000)));
  const firstRate = HOSTS / ((performance.now() - t) / 1000);

  // Phase 2: sustained, at the fleet's rate (hosts / 15 s), identical reports (heartbeats) plus injected
  // second hosts for a key another host signs with (time to alert).
  const target = HOSTS / (INTERVAL_MS / 1000);
  const lat: number[] = [];
  const injected = new Map<string, number>();
  let sent = 0;
  const t0 = performance.now();
  const inflight = new Set<Promise<void>>();
  let dup = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * target);
    while (sent < due) {
      const h = sent % HOSTS;
      let body: string;
      if (sent % 150 === 75 && dup < 300) {
        // host h also loads a key of host h+1: the second host for that key.
        const k = ((h + 1) % HOSTS) * KEYS + (dup % KEYS);
        dup++;
        body = reportOf(h, [...keysOf(h), k]);
        injected.set(hkey(k), performance.now());
      } else body = reportOf(h, keysOf(h));
      const p = post(body).then((ms) => {
        lat.push(ms);
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      sent++;
    }
    await sleep(2);
  }
  await Promise.all(inflight);
  const sustained = sent / ((performance.now() - t0) / 1000);
  const deadline = performance.now() + 60_000;
  while (alertAt.size < injected.size && performance.now() < deadline) await sleep(50);
  const toAlert = [...injected].filter(([k]) => alertAt.has(k)).map(([k, at]) => alertAt.get(k)! - at);

  // Phase 3: the most the monitor takes (64 concurrent agents, heartbeats).
  t = performance.now();
  const maxN = Math.min(HOSTS, 20_000);
  await pool(maxN, 64, (i) => post(reportOf(i % HOSTS, keysOf(i % HOSTS))));
  const maxRate = maxN / ((performance.now() - t) / 1000);

  const alertList = (await (
    await fetch(`${url}/api/v1/alerts?limit=1000`, { headers: { authorization: `Bearer ${operator}` } })
  ).json()) as { data: { kind: string }[] };
  const opened: Record<string, number> = {};
  for (const a of alertList.data) opened[a.kind] = (opened[a.kind] ?? 0) + 1;
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const batchSum = Number(/slashguard_monitor_ingest_batch_seconds_sum (\S+)/.exec(metrics)?.[1] ?? Number.NaN);
  const batchCount = Number(/slashguard_monitor_ingest_batch_seconds_count (\S+)/.exec(metrics)?.[1] ?? Number.NaN);
  const passSum = Number(/slashguard_monitor_detection_pass_seconds_sum (\S+)/.exec(metrics)?.[1] ?? Number.NaN);
  const passCount = Number(/slashguard_monitor_detection_pass_seconds_count (\S+)/.exec(metrics)?.[1] ?? Number.NaN);
  agent.destroy();
  mon.kill("SIGTERM");
  await new Promise((r) => mon.once("exit", r));
  hook.close();

  // Raw insert rate of the engine, same database, same run: report-sized rows, one per transaction (8
  // clients), and 1,000 per transaction.
  const raw = new pg.Pool({ connectionString: db, max: 8 });
  await raw.query("CREATE TABLE bench_raw (id BIGSERIAL PRIMARY KEY, host_id INT, at BIGINT, body TEXT)");
  const body = reportOf(1, keysOf(1));
  const runFor = async (ms: number, conc: number, fn: () => Promise<number>) => {
    let n = 0;
    const end = performance.now() + ms;
    const s = performance.now();
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (performance.now() < end) n += await fn();
      }),
    );
    return n / ((performance.now() - s) / 1000);
  };
  const rawSingle = await runFor(5000, 8, async () => {
    await raw.query("INSERT INTO bench_raw (host_id, at, body) VALUES ($1, $2, $3)", [1, Date.now(), body]);
    return 1;
  });
  const rawBatch = await runFor(5000, 1, async () => {
    await raw.query("INSERT INTO bench_raw (host_id, at, body) SELECT g, $1, $2 FROM generate_series(1, 1000) g", [
      Date.now(),
      body,
    ]);
    return 1000;
  });
  await raw.end();

  // Phase 4: a full detection pass over 100,000 keys (10,000 hosts × 10), 1% of them on two hosts.
  const groups: KeyGroup[] = [];
  const now = Date.now();
  const o = (hostId: number, active: boolean): Observation => ({
    hostId,
    hostName: `h${hostId}`,
    present: true,
    active,
    certainty: 1,
    stale: false,
    signerId: null,
    activeSince: active ? now - 60_000 : null,
    inactiveSince: active ? null : now - 60_000,
    firstSeenAt: now - 120_000,
  });
  for (let k = 0; k < 100_000; k++) {
    const host = Math.floor(k / 10);
    const obs = [o(host, true)];
    if (k % 100 === 0) obs.push(o((host + 1) % 10_000, true));
    if (k % 100 === 50) obs.push(o((host + 2) % 10_000, false));
    groups.push({ ownerId: 1, chain: "harmony", pubkey: hkey(k), obs });
  }
  const cpuOf = async (fn: () => Promise<number>) => {
    const c = process.cpuUsage();
    const w = performance.now();
    const n = await fn();
    const d = process.cpuUsage(c);
    return { wall: performance.now() - w, cpu: (d.user + d.system) / 1000, n };
  };
  // The same rule (double_active, shared signer, key_moved) written as a plain loop over the objects.
  const plain = await cpuOf(async () => {
    let n = 0;
    const win = 3_600_000;
    for (const g of groups) {
      const active = g.obs.filter((x) => x.active);
      const signers = new Set(active.map((x) => x.signerId));
      if (active.length >= 2 && !(signers.size === 1 && !signers.has(null))) n++;
      else if (active.length === 1 && now - active[0]!.activeSince! < win) {
        const since = active[0]!.activeSince!;
        if (g.obs.some((x) => !x.active && x.inactiveSince !== null && Math.abs(since - x.inactiveSince) <= win)) n++;
      }
    }
    return n;
  });
  const inline = new FleetDetector({ workers: 0 });
  const inl = await cpuOf(async () => (await inline.fullPass(groups, [], now)).length);
  const workers = Math.max(1, cpus().length);
  const pooled = new FleetDetector({ workers, batchSize: 1000 });
  await pooled.fullPass(groups.slice(0, 2000), [], now); // start the threads outside the measurement
  const pool1 = await cpuOf(async () => (await pooled.fullPass(groups, [], now)).length);
  await pooled.close();

  if (own) {
    const c = new pg.Client({ connectionString: ADMIN });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${new URL(db).pathname.slice(1)} WITH (FORCE)`);
    await c.end();
  }

  const c = cpus();
  console.log(
    `\nMachine: ${c.length} x ${c[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(
    `Fleet: ${HOSTS} hosts x ${KEYS} keys, one report per host every ${INTERVAL_MS / 1000} s; PostgreSQL, monitor as its own process\n`,
  );
  console.log(
    table(
      ["measure", "slashguard monitor", "needed / limit (same run)"],
      [
        ["first reports (inventory written), reports/s", firstRate, `needed ${fmt(target)}`],
        [`sustained ${SECONDS} s at the fleet rate, reports/s`, sustained, `needed ${fmt(target)}`],
        ["sustained: report round trip p50 / p99, ms", `${fmt(pct(lat, 50))} / ${fmt(pct(lat, 99))}`, "-"],
        ["most reports/s (64 agents at once)", maxRate, `raw INSERT, 1 row/tx, 8 clients: ${fmt(rawSingle)} rows/s`],
        ["", "", `raw INSERT, 1,000 rows/tx: ${fmt(rawBatch)} rows/s`],
        [
          `time to alert after the second host reports (n=${toAlert.length}/${injected.size}) p50 / p99, ms`,
          `${fmt(pct(toAlert, 50))} / ${fmt(pct(toAlert, 99))}`,
          "-",
        ],
        ["full sweep in the monitor (read + rules + reconcile), mean s", passSum / passCount, `${passCount} sweeps`],
        ["ingest transaction (group commit), mean ms", (batchSum / batchCount) * 1000, `${fmt(batchCount)} batches`],
        ["alerts opened during the run, by kind", JSON.stringify(opened), `${injected.size} second hosts injected`],
      ],
    ),
  );
  console.log("");
  console.log(
    table(
      ["detection pass, 100,000 keys", "wall ms", "CPU ms", "detections"],
      [
        ["plain single-thread loop over objects", plain.wall, plain.cpu, plain.n],
        ["rules on this thread, batches of 1,000 (columnar)", inl.wall, inl.cpu, inl.n],
        [`rules on ${workers} worker threads, batches of 1,000`, pool1.wall, pool1.cpu, pool1.n],
      ],
    ),
  );
}

await main();
