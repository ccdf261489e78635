/**
 * Signer start-up to /upcheck with scrypt keystores (n = 2^18, r = 8, as staking-deposit-cli writes
 * them): cold (every keystore decrypted; the cache written) and cached (the key cache), beside the raw
 * scrypt rate on all cores in the same run.
 *
 *   npm run build && node --import tsx bench/keyCache.ts [--cold 200] [--cached 1000,10000] [--runs 3]
 *     [--keys /tmp/slashguard-bench-keys]
 *
 * Keystore sets come from bench/keyCacheKeys.ts (made once, kept under --keys, reused). The cache of a
 * "cached" row is sealed by that script with the signer's own library (keys/keyCache.ts), as a first
 * start writes it (the "cold" row's second start uses the cache its cold start wrote). Each row gives
 * the signer's own phase times from its log ("Keys loaded" ms, "Keys registered" ms) and the CPU time
 * the signer process used until /upcheck (all its threads), which depends less on the load than the
 * wall clock does.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_KEYS_ROOT, deriveScrypt, dropSetCache, keystoreSet, writeSetCache } from "./keyCacheKeys.js";
import { arg, cpuSeconds, machine, now, table } from "./lib.js";

const COLD = Number(arg("cold", "200"));
const CACHED = arg("cached", "1000,10000").split(",").filter(Boolean).map(Number);
const RUNS = Number(arg("runs", "3"));
const ROOT = arg("keys", DEFAULT_KEYS_ROOT);
const CLI = join(resolve(import.meta.dirname, ".."), "dist", "cli", "main.js");
const GVR = `0x${"11".repeat(32)}`;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** Derivations per second on all cores (libuv's pool, as the signer's start-up uses it). */
async function rawScrypt(count: number): Promise<number> {
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: availableParallelism() }, async () => {
      while (next++ < count) await deriveScrypt(randomBytes(16), randomBytes(32));
    }),
  );
  return count / ((now() - t0) / 1000);
}

interface Start {
  ms: number;
  cpu: number;
  fromCache: number;
  decrypted: number;
  phases: Record<string, number>;
  registerMs: number;
  load: string;
}

/** Spawn → first 200 from /upcheck (the server listens once every key is loaded). */
async function startUp(keys: string): Promise<Start> {
  const data = mkdtempSync(join(tmpdir(), "sg-kc-db-"));
  const loadBefore = load();
  const t0 = now();
  const proc = spawn(
    process.execPath,
    [
      CLI,
      "signer",
      "--db",
      `sqlite:${join(data, "sg.db")}`,
      "--network",
      "custom",
      "--genesis-validators-root",
      GVR,
      "--keystores",
      keys,
      "--port",
      "0",
      "--log-level",
      "info",
      "--no-keymanager",
      "--no-doppelganger",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  proc.stderr!.on("data", (d) => {
    err += d;
  });
  try {
    const url = await new Promise<string>((res, rej) => {
      proc.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) res(m[1]!);
      });
      proc.on("exit", (c) => rej(new Error(`signer exited ${c}: ${err.slice(-2000)}`)));
    });
    for (;;) {
      const r = await fetch(`${url}/upcheck`).catch(() => null);
      if (r?.status === 200) break;
    }
    const ms = now() - t0;
    const cpu = cpuSeconds(proc.pid!);
    const line = err.split("\n").find((l) => l.includes('"Keys loaded"'));
    const loaded =
      line === undefined ? {} : (JSON.parse(line) as { fromCache?: number; decrypted?: number; ms?: object });
    const reg = err.split("\n").find((l) => l.includes('"Keys registered"'));
    return {
      ms,
      cpu,
      fromCache: loaded.fromCache ?? -1,
      decrypted: loaded.decrypted ?? -1,
      phases: (loaded.ms ?? {}) as Record<string, number>,
      registerMs: reg === undefined ? -1 : (JSON.parse(reg) as { ms: number }).ms,
      load: loadBefore,
    };
  } finally {
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    rmSync(data, { recursive: true, force: true });
  }
}

/** The fastest of `runs` starts (the others were slowed by the machine's other work). */
async function best(dir: string, runs: number, before?: () => Promise<void>): Promise<Start> {
  let b: Start | null = null;
  for (let i = 0; i < runs; i++) {
    await before?.();
    const s = await startUp(dir);
    if (b === null || s.ms < b.ms) b = s;
  }
  return b!;
}

console.log(`${machine()}; load average before: ${load()}`);
const scratch = mkdtempSync(join(tmpdir(), "sg-kc-"));
const rows: (string | number)[][] = [];
const phaseCols = ["list", "read", "open", "check", "decrypt", "write"];
const row = (label: string, r: Start, empty: number, limit: string, share: string): (string | number)[] => [
  label,
  String(r.fromCache),
  String(r.decrypted),
  r.ms / 1000,
  (r.ms - empty) / 1000,
  r.cpu,
  phaseCols.map((k) => ((r.phases[k] ?? 0) / 1000).toFixed(2)).join(" / "),
  r.registerMs < 0 ? "-" : (r.registerMs / 1000).toFixed(2),
  limit,
  share,
  r.load,
];
try {
  const raw = await rawScrypt(4 * availableParallelism());
  console.log(`raw scrypt n=2^18 on ${availableParallelism()} cores: ${raw.toFixed(3)}/s (load ${load()})`);
  const emptyDir = join(scratch, "empty");
  mkdirSync(emptyDir);
  const empty = await best(emptyDir, RUNS);
  rows.push(row("0 (empty folder)", empty, empty.ms, "-", "-"));
  if (COLD > 0) {
    const coldDir = await keystoreSet(ROOT, COLD);
    const cold = await best(coldDir, 1, async () => dropSetCache(coldDir));
    const limit = COLD / raw;
    rows.push(
      row(
        `${COLD} cold`,
        cold,
        empty.ms,
        limit.toFixed(1),
        `${((limit / ((cold.ms - empty.ms) / 1000)) * 100).toFixed(0)}%`,
      ),
    );
    rows.push(row(`${COLD} cached (written by the cold start)`, await best(coldDir, RUNS), empty.ms, "-", "-"));
    const rawAfter = await rawScrypt(4 * availableParallelism());
    console.log(`raw scrypt after the cold start: ${rawAfter.toFixed(3)}/s (load ${load()})`);
  }
  for (const n of CACHED) {
    await writeSetCache(ROOT, n);
    const r = await best(join(ROOT, String(n)), RUNS);
    rows.push(row(`${n} cached`, r, empty.ms, (n / raw).toFixed(0), "-"));
  }
  console.log(
    table(
      [
        "keystores",
        "from cache",
        "decrypted",
        "to /upcheck (s)",
        "minus the empty start (s)",
        "signer CPU (s)",
        "list / read / open / check / decrypt / write (s)",
        "register (s)",
        "raw scrypt for them, all cores (s)",
        "of the scrypt limit",
        "load before",
      ],
      rows,
    ),
  );
  console.log(`load average after: ${load()}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
