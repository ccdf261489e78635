import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./vectors.js";

const MAIN = join(REPO_ROOT, "dist", "cli", "main.js");

/** Runs `slashguard …` from dist/ to completion. */
export async function runCli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [MAIN, ...args], { cwd: REPO_ROOT });
}

export interface Proc {
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

function wrap(proc: ChildProcess, out: string[]): Proc {
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const signal = async (s: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(s);
    await exited;
  };
  return { proc, output: () => out.join(""), stop: () => signal("SIGTERM"), kill: () => signal("SIGKILL") };
}

/** Starts `slashguard monitor …` on port 0 and resolves with its URL once it listens. */
export async function startMonitorProcess(args: string[]): Promise<Proc & { url: string }> {
  const proc = spawn(process.execPath, [MAIN, "monitor", "--port", "0", "--log-level", "warn", ...args], {
    cwd: REPO_ROOT,
  });
  const out: string[] = [];
  proc.stderr!.on("data", (d: Buffer) => out.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      out.push(d.toString());
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(buf);
      if (m) resolve(m[1]!);
    });
    proc.once("exit", (code) => reject(new Error(`monitor exited (${code}): ${out.join("")}`)));
  });
  return { ...wrap(proc, out), url };
}

export function startAgentProcess(args: string[]): Proc {
  const proc = spawn(process.execPath, [MAIN, "agent", "--log-level", "warn", ...args], { cwd: REPO_ROOT });
  const out: string[] = [];
  proc.stdout!.on("data", (d: Buffer) => out.push(d.toString()));
  proc.stderr!.on("data", (d: Buffer) => out.push(d.toString()));
  return wrap(proc, out);
}

export function writeFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Polls `fn` until it returns a value that is not undefined (state-driven waits, no time assertions). */
export async function until<T>(fn: () => Promise<T | undefined>, what: string, limitMs = 60_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
