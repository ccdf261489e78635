import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { dirname, join } from "node:path";
import { it } from "vitest";
import { writeValidatorKey } from "./failover/keys.js";
import { freePort } from "./failover/ports.js";
import { makeTestPki } from "./tlsCerts.js";
import { REPO_ROOT } from "./vectors.js";

/** deploy/: systemd units, example configs, Prometheus rules, the Grafana dashboard. */
export const DEPLOY_DIR = join(REPO_ROOT, "deploy");
/** The example /etc/slashguard files. */
export const EXAMPLES_DIR = join(DEPLOY_DIR, "etc", "slashguard");

/** CI sets it: promtool, prometheus and systemd-analyze must then be there (.ci/services.sh installs them). */
export const REQUIRE_DEPLOY_TOOLS = process.env.SLASHGUARD_REQUIRE_DEPLOY_TOOLS === "1";

/** Where a tool is on PATH, or null. */
export function which(tool: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Why these tools cannot run (null when all are on PATH). Missing tools skip the tests with the reason,
 * except in CI (SLASHGUARD_REQUIRE_DEPLOY_TOOLS=1), where they fail.
 */
export function toolsMissing(...tools: string[]): string | null {
  const absent = tools.filter((t) => which(t) === null);
  if (absent.length === 0) return null;
  const reason = `${absent.join(", ")} not on PATH (Debian: apt-get install prometheus systemd; .ci/services.sh does it)`;
  if (REQUIRE_DEPLOY_TOOLS) throw new Error(`SLASHGUARD_REQUIRE_DEPLOY_TOOLS=1 and ${reason}`);
  console.warn(`deploy tests SKIPPED: ${reason}`);
  return reason;
}

/** One skipped test that names the reason, for a suite that cannot run here. */
export function markToolsSkipped(suite: string, reason: string | null): void {
  if (reason !== null) it.skip(`${suite}: SKIPPED, ${reason}`, () => {});
}

/**
 * A stand-in for a server's file system: the examples' /etc/slashguard/ and /var/lib/slashguard/ paths
 * are moved under `root`, so an example config runs unchanged apart from its paths.
 */
export class ExampleRoot {
  constructor(readonly root: string) {
    mkdirSync(this.etc(""), { recursive: true });
    mkdirSync(this.state(""), { recursive: true });
  }

  etc(rel: string): string {
    return join(this.root, "etc", rel);
  }

  state(rel: string): string {
    return join(this.root, "var", rel);
  }

  /** The example text with its absolute paths moved under the root, then the given replacements. */
  adapt(text: string, replacements: [string | RegExp, string][] = []): string {
    let out = text
      .replaceAll("/etc/slashguard/", `${this.etc("")}/`)
      .replaceAll("/var/lib/slashguard/", `${this.state("")}/`);
    for (const [from, to] of replacements) {
      if (!(typeof from === "string" ? out.includes(from) : from.test(out)))
        throw new Error(`example no longer contains ${String(from)}: update this test and the docs together`);
      out = out.replace(from, to);
    }
    return out;
  }

  /** Writes an adapted copy of deploy/etc/slashguard/NAME under the root's etc/ and returns its path. */
  writeExample(name: string, replacements: [string | RegExp, string][] = []): string {
    const file = this.etc(name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, this.adapt(readFileSync(join(EXAMPLES_DIR, name), "utf8"), replacements));
    return file;
  }
}

export interface ClientCert {
  cert: Buffer;
  key: Buffer;
}

/**
 * The signer's TLS files where signer.yaml expects them (etc/tls/signer.crt, signer.key, allowed-clients),
 * with two client certificates in the allow-list: a validator client's and Prometheus's.
 */
export function writeSignerTls(r: ExampleRoot): { ca: Buffer; vc: ClientCert; prometheus: ClientCert; dir: string } {
  const dir = r.etc("tls");
  mkdirSync(dir, { recursive: true });
  const pki = makeTestPki(dir);
  writeFileSync(join(dir, "signer.crt"), pki.server.cert);
  writeFileSync(join(dir, "signer.key"), pki.server.key, { mode: 0o600 });
  const vc = pki.client("validator-client");
  const prometheus = pki.client("prometheus");
  const fp = (c: ClientCert) => new X509Certificate(c.cert).fingerprint256;
  writeFileSync(join(dir, "allowed-clients"), `validator-client ${fp(vc)}\nprometheus ${fp(prometheus)}\n`);
  writeFileSync(join(dir, "prometheus.crt"), prometheus.cert);
  writeFileSync(join(dir, "prometheus.key"), prometheus.key, { mode: 0o600 });
  writeFileSync(join(dir, "ca.crt"), pki.ca);
  return { ca: pki.ca, vc, prometheus, dir };
}

/** An HTTPS request with a client certificate; resolves with the status and the body text. */
export function httpsRequest(
  url: string,
  tls: { ca: Buffer; client: ClientCert | null },
  o: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      url,
      {
        method: o.method ?? (body === undefined ? "GET" : "POST"),
        ca: tls.ca,
        ...(tls.client === null ? {} : { cert: tls.client.cert, key: tls.client.key }),
        headers: {
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...o.headers,
        },
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.end(body);
  });
}

export interface Job {
  child: ChildProcessWithoutNullStreams;
  /** The stdout line that matched. */
  line: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then the exit code, or the signal that ended it ("SIGKILL" when it took over 20 s). */
  stop(): Promise<number | string>;
}

/**
 * Starts `cmd args` (e.g. the installed `slashguard signer …`) in `cwd` and waits for a stdout line
 * matching `ready` (null: returns at once); rejects with the output when the process exits first.
 */
export function startJob(
  cmd: string[],
  args: string[],
  o: { cwd: string; ready: RegExp | null; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Job> {
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { cwd: o.cwd, env: { ...process.env, ...o.env } });
  const out: string[] = [];
  let stdoutBuf = "";
  const exited = new Promise<number | string>((r) =>
    child.once("exit", (code, signal) => r(code ?? signal ?? "unknown")),
  );
  const stop = async (): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited.finally(() => clearTimeout(t));
    }
    return exited;
  };
  if (o.ready === null) {
    child.stdout.on("data", (d: Buffer) => out.push(d.toString()));
    child.stderr.on("data", (d: Buffer) => out.push(d.toString()));
    return Promise.resolve({ child, line: "", output: () => out.join(""), stop });
  }
  const ready = o.ready;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${args[0]} did not print ${ready} in time:\n${out.join("")}`));
    }, o.timeoutMs ?? 60_000);
    child.stderr.on("data", (d: Buffer) => out.push(d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      out.push(d.toString());
      stdoutBuf += d.toString();
      const lines = stdoutBuf.split("\n");
      stdoutBuf = lines.pop() ?? "";
      const line = lines.find((l) => ready.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve({ child, line, output: () => out.join(""), stop });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${code}) before printing ${ready}:\n${out.join("")}`));
    });
  });
}

/** Metric families of a Prometheus text exposition (`# TYPE name type` lines). */
export function metricFamilies(exposition: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Every metric name a PromQL expression uses (slashguard_* and `up`). */
export function metricNamesIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(slashguard_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)].map((m) => m[1]!))];
}

/** Which of `names` no family of `families` exposes (histogram and summary series included). */
export function unknownMetrics(names: Iterable<string>, families: Map<string, string>): string[] {
  return [...names].filter((n) => {
    if (n === "up" || families.has(n)) return false;
    const base = n.replace(/_(bucket|sum|count)$/, "");
    return !(base !== n && ["histogram", "summary"].includes(families.get(base) ?? ""));
  });
}

/** The PromQL of every panel target and templating query of a Grafana dashboard. */
export function dashboardQueries(dashboard: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if ((k === "expr" || k === "definition") && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(dashboard);
  return out;
}

/**
 * failover.yaml with its paths under the root, a SQLite lease, loopback ports, and stand-in node
 * commands (the node never runs: is-running answers "stopped" like `systemctl is-active`); the node's
 * home and the validator key are created. Returns the config file and the API port.
 */
export async function writeFailoverExample(r: ExampleRoot): Promise<{ config: string; port: number }> {
  const port = await freePort();
  writeValidatorKey(r.etc("priv_validator_key.json"));
  mkdirSync(r.state("story/.story/story/config"), { recursive: true });
  mkdirSync(r.state("story/.story/story/data"), { recursive: true });
  writeFileSync(r.state("story/.story/story/config/config.toml"), "[consensus]\n"); // the node's own file
  const deadRpc = `http://127.0.0.1:${await freePort()}`;
  const config = r.writeExample("failover.yaml", [
    ["port: 8080", `port: ${port}`],
    ["host: 0.0.0.0", "host: 127.0.0.1"],
    ["http://127.0.0.1:26657", deadRpc],
    ["http://127.0.0.1:8545", deadRpc],
    [/\/home\/story\/\.story/g, r.state("story/.story")],
    ["postgres://slashguard@db.internal/slashguard", `sqlite:${r.state("failover/lease.db")}`],
    ["address: 10.0.1.12:8080", `address: 127.0.0.1:${await freePort()}`],
    [
      "  service: story",
      "  service: story\n  start_command: 'true'\n  stop_command: 'true'\n  is_running_command: sh -c 'exit 3'\n  kill_command: 'true'",
    ],
  ]);
  return { config, port };
}
