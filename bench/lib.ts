import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import pg from "pg";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function stats(latenciesMs: number[]): { p50: number; p99: number; max: number } {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
}

/** Prints a Markdown table (so a run can be pasted into bench/RESULTS.md as it is). */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i] ?? "").length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(headers),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.map((r) => line(r.map(String))),
  ].join("\n");
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

export const now = (): number => performance.now();

export const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A fresh PostgreSQL database for one benchmark run, and how to drop it. */
export async function freshPg(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sg_${tag}_${process.pid}_${Date.now()}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

/** CPU seconds (user + system, all threads) a live process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

/**
 * A module of the compiled program (dist/, `npm run build` first), for benches that run it in-process:
 * tsx's on-the-fly transform wraps every function it creates in a naming helper, which costs 10–15% in
 * a hot path the shipped program does not have. Typed through its source: `fromDist<typeof import("../src/x.js")>("x.js")`.
 */
export async function fromDist<T>(path: string): Promise<T> {
  const url = new URL(`../dist/${path}`, import.meta.url);
  try {
    return (await import(url.href)) as T;
  } catch (e) {
    throw new Error(`cannot load dist/${path}: run \`npm run build\` first (${(e as Error).message})`);
  }
}
