/**
 * Dashboard benchmark: what the browser downloads, and what the key table's worker does per keystroke.
 *
 *   npm run build && node --import tsx bench/dashboard.ts [--keys 10000,100000] [--runs 30]
 *
 * 1. Bundle: our built JS + CSS, raw / gzip / brotli, beside the floor of any React 19 page: a page that
 *    renders one paragraph, built here with the same Vite settings.
 * 2. Key table: filter + sort in the worker (queryKeys) at N keys, beside the floor (one bare pass over
 *    the rows, no sort) and the other way to do it, a round trip per keystroke to the monitor's
 *    server-side prefix search (GET /api/v1/keys?prefix=…, SQLite, loopback) with the same keys stored.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { build } from "vite";
import { type RunningMonitor, startMonitor } from "../src/cli/monitor/startMonitor.js";
import type { KeyRow } from "../web/src/api/types.js";
import { encodeKeys, transferables } from "../web/src/keys/keyColumns.js";
import { DEFAULT_QUERY, type KeyQuery, queryKeys, toRecord } from "../web/src/keys/keyQuery.js";
import { arg, machine, now, stats, table } from "./lib.js";

const root = join(import.meta.dirname, "..");

function sizes(buf: Buffer): [number, number, number] {
  const br = brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  return [buf.length / 1024, gzipSync(buf, { level: 9 }).length / 1024, br.length / 1024];
}

const readAll = (dir: string, re: RegExp): Buffer =>
  Buffer.concat(
    readdirSync(dir)
      .filter((f) => re.test(f))
      .map((f) => readFileSync(join(dir, f))),
  );

/** The smallest React 19 page, built with the dashboard's Vite settings (in bench/out/, gitignored). */
async function floorBundle(): Promise<Buffer> {
  const dir = join(root, "bench", "out", "react-floor");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "index.html"), '<div id="root"></div><script type="module" src="/main.jsx"></script>');
  writeFileSync(
    join(dir, "main.jsx"),
    'import { createRoot } from "react-dom/client";\ncreateRoot(document.getElementById("root")).render(<p>hello</p>);\n',
  );
  await build({
    root: dir,
    logLevel: "silent",
    plugins: [react()],
    build: { outDir: "dist", emptyOutDir: true, target: "es2022", modulePreload: { polyfill: false } },
  });
  return readAll(join(dir, "dist", "assets"), /\.js$/);
}

async function bundleTable(): Promise<string> {
  const dir = join(root, "dist", "web", "assets");
  return table(
    ["what", "raw KiB", "gzip KiB", "brotli KiB"],
    [
      ["dashboard JS (app + worker + React)", ...sizes(readAll(dir, /\.js$/))],
      ["dashboard CSS", ...sizes(readAll(dir, /\.css$/))],
      ["floor: a React 19 page showing one paragraph", ...sizes(await floorBundle())],
    ],
  );
}

const keyHex = (i: number): string => `0x${((i * 2654435761) >>> 0).toString(16).padStart(8, "0")}${"c3".repeat(44)}`;

/** Key rows as GET /api/v1/keys answers them. */
function keyRows(n: number, hosts: number): KeyRow[] {
  return Array.from({ length: n }, (_, i) => ({
    chain: "ethereum",
    pubkey: keyHex(i),
    key_type: "bls",
    host_id: (i % hosts) + 1,
    host: `host-${(i % hosts) + 1}`,
    status: i % 10 !== 0 ? "active" : "inactive",
    stale: false,
    certainty: 1,
    source: "ethereum:km",
    first_seen: "2026-01-01T00:00:00.000Z",
    changed_at: new Date(1_700_000_000_000 + ((i * 7919) % 86_400_000)).toISOString(),
  }));
}

function time(runs: number, fn: () => unknown): number[] {
  for (let i = 0; i < 3; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = now();
    fn();
    out.push(now() - t);
  }
  return out;
}

/** A monitor on a temp SQLite file with `n` Ethereum keys spread over hosts of 10,000 (a report's limit). */
async function monitorWith(n: number): Promise<{ m: RunningMonitor; token: string }> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "sg-bench-dash-"));
  const m = await startMonitor({
    db: `sqlite:${join(dir, "m.db")}`,
    port: 0,
    logLevel: "silent",
    configDoc: { monitor: { sweep_interval: 3_600_000, max_report_bytes: 16 << 20, dashboard: false } },
  });
  const agent = (await m.tokens.create("bench", "agent")).token;
  const token = (await m.tokens.create("bench", "operator")).token;
  for (let h = 0; h * 10_000 < n; h++) {
    const keys = [];
    for (let i = h * 10_000; i < Math.min(n, (h + 1) * 10_000); i++)
      keys.push({
        chain: "ethereum",
        pubkey: keyHex(i),
        key_type: "bls",
        source: "ethereum:km",
        facts: { source: "local", signer_url: null, readonly: false },
      });
    const res = await fetch(`${m.url}/api/v1/agent/reports`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
      body: JSON.stringify({
        version: 1,
        host: `host-${h + 1}`,
        agent_version: "bench",
        interval_ms: 15_000,
        observed_at: Date.now(),
        sources: [{ id: "ethereum:km", chain: "ethereum", reachable: true, error: null }],
        keys,
      }),
    });
    if (res.status !== 202) throw new Error(`report refused: ${res.status} ${await res.text()}`);
  }
  return { m, token };
}

async function keyTable(sizesList: number[], runs: number): Promise<string> {
  const rows: (string | number)[][] = [];
  const typed = "0x1a"; // about 1/256 of the keys match
  for (const n of sizesList) {
    const wire = keyRows(n, Math.max(1, Math.ceil(n / 10_000)));
    const data = wire.map(toRecord);
    const prefixQ: KeyQuery = { ...DEFAULT_QUERY, prefix: typed };
    const sortAll: KeyQuery = { ...DEFAULT_QUERY, sort: "changed", desc: true };
    const ours = stats(time(runs, () => queryKeys(data, prefixQ)));
    const oursSort = stats(time(runs, () => queryKeys(data, sortAll)));
    const floor = stats(
      time(runs, () => {
        let c = 0;
        for (const r of data) if (r.pubkey.startsWith(typed)) c++;
        return c;
      }),
    );
    const columns = stats(
      time(Math.min(runs, 10), () => {
        const c = encodeKeys(wire);
        return structuredClone(c, { transfer: transferables(c) });
      }),
    );
    const objects = stats(time(Math.min(runs, 10), () => structuredClone(data)));
    const { m, token } = await monitorWith(n);
    const server: number[] = [];
    try {
      for (let i = 0; i < runs + 3; i++) {
        const t = now();
        const r = await fetch(`${m.url}/api/v1/keys?prefix=${typed}&limit=5000`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await r.arrayBuffer();
        if (i >= 3) server.push(now() - t);
      }
    } finally {
      await m.stop();
    }
    const srv = stats(server);
    const k = n.toLocaleString("en");
    rows.push(
      [k, "worker: prefix filter + sort (per keystroke)", ours.p50, ours.p99],
      [k, "worker: sort every row by last change", oursSort.p50, oursSort.p99],
      [k, "floor: one bare startsWith pass, no sort", floor.p50, floor.p99],
      [k, "server prefix search per keystroke (HTTP round trip, SQLite)", srv.p50, srv.p99],
      [k, "rows to the worker: columns, arrays moved (ours, per changed refresh)", columns.p50, columns.p99],
      [k, "rows to the worker: objects, structured clone", objects.p50, objects.p99],
    );
  }
  return table(["keys", "what", "p50 ms", "p99 ms"], rows);
}

const keyCounts = arg("keys", "10000,100000")
  .split(",")
  .map((s) => Number(s));
const runs = Number(arg("runs", "30"));
console.log(`machine: ${machine()}\n`);
console.log("Bundle (dist/web, built by npm run build):\n");
console.log(await bundleTable());
console.log(`\nKey table, ${runs} runs per row:\n`);
console.log(await keyTable(keyCounts, runs));
