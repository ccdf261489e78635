import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { runCli, startCli, waitForLine } from "./cli.js";

export interface SignerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts `slashguard signer …` on port 0 and waits until it listens. */
export async function startSignerProcess(args: string[]): Promise<SignerProcess> {
  const child = startCli(["signer", "--port", "0", "--log-level", "warn", ...args]);
  const line = await waitForLine(child, /slashguard signer listening on (\S+)/, 60_000);
  const url = /listening on (\S+)/.exec(line)![1]!;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** `keys generate` with a light KDF (tests only). */
export async function generateTestKeys(dir: string, count: number): Promise<string[]> {
  const r = await runCli([
    "keys",
    "generate",
    "--count",
    String(count),
    "--out",
    dir,
    "--kdf",
    "pbkdf2",
    "--kdf-work",
    "16",
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(" ")[0]!);
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}
