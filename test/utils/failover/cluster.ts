import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PEER_AUTH_HEADER, PEER_NONCE_HEADER, PeerToken } from "../../../src/failover/peers/peerAuth.js";
import { doubleSigns, type LedgerLine, readLedger, writeGenesis } from "../../fixtures/fakeNode/chain.js";
import { tempDir } from "../stores.js";
import { REPO_ROOT } from "../vectors.js";
import { writeValidatorKey } from "./keys.js";
import { freePort } from "./ports.js";

const CLI = join(REPO_ROOT, "dist", "cli", "main.js");
const CTL = join(REPO_ROOT, "test", "fixtures", "fakeNode", "ctl.sh");

export interface HostSpec {
  id: string;
  role: "active" | "passive";
  primary?: boolean;
  /** Lease store URL for this host (defaults to the cluster's). */
  leaseStore?: string;
  /** Peer address overrides (id -> host:port), e.g. a dead one to stop state sync. */
  peerAddress?: Record<string, string>;
  /** The fake node votes this many heights back when it starts (a node rejoining from its WAL). */
  replay?: number;
}

export interface ClusterOptions {
  leaseStore: string;
  hosts: HostSpec[];
  blockMs?: number;
  failbackGrace?: string;
  handoverWindow?: string;
  failback?: "auto" | "manual";
  ttl?: string;
  margin?: string;
  /** Daemons share a peer token (default true): /status is then read with signed requests. */
  peerToken?: boolean;
}

export interface Host {
  spec: HostSpec;
  home: string;
  nodePort: number;
  apiPort: number;
  configFile: string;
  daemon: ChildProcessWithoutNullStreams | null;
  /** Everything the daemon wrote to stderr (pino JSON lines). */
  log: string[];
}

export interface FailoverEventLine {
  kind: string;
  node: string;
  reason?: string;
  target?: string | null;
  [k: string]: unknown;
}

/** Two or more failover daemons with fake nodes on one fake chain; every piece a real process. */
export class FailoverCluster {
  readonly hosts = new Map<string, Host>();
  readonly ledgerFile: string;
  readonly chainDir: string;
  private readonly tmp: { dir: string; cleanup: () => void };
  private readonly tokenFile: string | null;
  private readonly token: PeerToken | null;

  private constructor(
    readonly opts: ClusterOptions,
    tmp: { dir: string; cleanup: () => void },
  ) {
    this.tmp = tmp;
    this.ledgerFile = join(tmp.dir, "ledger.jsonl");
    this.chainDir = join(tmp.dir, "chain");
    if (opts.peerToken === false) {
      this.tokenFile = null;
      this.token = null;
    } else {
      const text = randomBytes(32).toString("hex");
      this.tokenFile = join(tmp.dir, "peer.token");
      writeFileSync(this.tokenFile, `${text}\n`, { mode: 0o600 });
      this.token = new PeerToken(text);
    }
  }

  static async create(opts: ClusterOptions): Promise<FailoverCluster> {
    const c = new FailoverCluster(opts, tempDir("sg-cluster-"));
    mkdirSync(c.chainDir);
    const keyFile = join(c.tmp.dir, "validator_key.json");
    const key = writeValidatorKey(keyFile);
    writeGenesis(c.chainDir, {
      chain_id: "fake-1",
      genesis_ms: Date.now(),
      block_ms: opts.blockMs ?? 300,
      validators: [key.address],
    });
    for (const spec of opts.hosts) {
      const home = join(c.tmp.dir, spec.id);
      mkdirSync(join(home, "config"), { recursive: true });
      mkdirSync(join(home, "data"), { recursive: true });
      writeFileSync(join(home, "config", "config.toml"), '[consensus]\ntimeout_commit = "300ms"\n');
      // every host keeps its own copy of the validator key; it never crosses the network
      copyFileSync(keyFile, join(home, "validator_key.json"));
      c.hosts.set(spec.id, {
        spec,
        home,
        nodePort: await freePort(),
        apiPort: await freePort(),
        configFile: join(home, "failover.yaml"),
        daemon: null,
        log: [],
      });
    }
    for (const h of c.hosts.values()) writeFileSync(h.configFile, c.configYaml(h));
    return c;
  }

  private configYaml(h: Host): string {
    const o = this.opts;
    const peers = [...this.hosts.values()]
      .filter((p) => p.spec.id !== h.spec.id)
      .map(
        (p) =>
          `    - id: ${p.spec.id}\n      address: "${h.spec.peerAddress?.[p.spec.id] ?? `127.0.0.1:${p.apiPort}`}"`,
      )
      .join("\n");
    const ctl = (cmd: string, extra = ""): string => `bash ${CTL} ${cmd} ${h.home}${extra}`;
    const start = ctl(
      "start",
      ` --chain ${this.chainDir} --ledger ${this.ledgerFile} --port ${h.nodePort} --id ${h.spec.id} --replay ${h.spec.replay ?? 0}`,
    );
    return `server:
  id: ${h.spec.id}
  role: ${h.spec.role}
  port: ${h.apiPort}
  host: 127.0.0.1
story:
  comet_rpc_url: http://127.0.0.1:${h.nodePort}
  evm_rpc_url: http://127.0.0.1:${h.nodePort}
  validator_state_path: ${join(h.home, "data", "priv_validator_state.json")}
  is_primary_site: ${h.spec.primary ?? false}
  min_peers: 3
  block_interval: 1500ms
  state_sync_interval: 200ms
  rpc_timeout: 1s
failover:
  health_check_interval: 200ms
  retry_attempts: 3
  fallback_grace_period: ${o.failbackGrace ?? "60s"}
  failback: ${o.failback ?? "auto"}
  handover_window: ${o.handoverWindow ?? "1s"}
  chain_check_heights: 3
  chain_check_timeout: 20s
  signing_window: 5
  lookback_heights: 50
  confirm_stopped_timeout: 15s
  retry_after: 1s
communication:
  timeout: 500ms${this.tokenFile === null ? "" : `\n  peer_token_file: ${this.tokenFile}`}
  peers:
${peers}
lease:
  store: ${h.spec.leaseStore ?? o.leaseStore}
  name: validator-1
  ttl: ${o.ttl ?? "3s"}
  margin: ${o.margin ?? "1500ms"}
  renew_interval: 300ms
  call_timeout: 1s
node:
  start_command: ${start}
  stop_command: ${ctl("stop")}
  is_running_command: ${ctl("is-running")}
  kill_command: ${ctl("kill")}
  stop_timeout: 1s
  command_timeout: 15s
  key_file: ${join(h.home, "config", "priv_validator_key.json")}
key:
  validator_key_file: ${join(h.home, "validator_key.json")}
log_level: info
`;
  }

  host(id: string): Host {
    const h = this.hosts.get(id);
    if (h === undefined) throw new Error(`no host ${id}`);
    return h;
  }

  /** Starts a host's failover daemon and waits until it serves its API. */
  async startDaemon(id: string): Promise<void> {
    const h = this.host(id);
    const child = spawn(process.execPath, [CLI, "failover", "--config", h.configFile], { cwd: REPO_ROOT });
    h.daemon = child;
    let buf = "";
    child.stderr.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      h.log.push(...lines);
    });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (out.includes("listening on")) {
          child.stdout.off("data", onData);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      child.once("exit", (code) => reject(new Error(`daemon ${id} exited (${code}): ${h.log.slice(-5).join("\n")}`)));
    });
  }

  killDaemon(id: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const d = this.host(id).daemon;
    if (d === null || d.exitCode !== null || d.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      d.once("exit", () => resolve());
      d.kill(signal);
    });
  }

  async status(id: string): Promise<Record<string, any> | null> {
    try {
      const headers: Record<string, string> = {};
      if (this.token !== null) {
        const nonce = PeerToken.nonce();
        headers[PEER_NONCE_HEADER] = nonce;
        headers[PEER_AUTH_HEADER] = this.token.requestMac("GET", "/status", nonce);
      }
      const res = await fetch(`http://127.0.0.1:${this.host(id).apiPort}/status`, {
        headers,
        signal: AbortSignal.timeout(1000),
      });
      return (await res.json()) as Record<string, any>;
    } catch {
      return null;
    }
  }

  async role(id: string): Promise<string | null> {
    return ((await this.status(id))?.role as string | undefined) ?? null;
  }

  /** Failover events a daemon logged. */
  events(id: string): FailoverEventLine[] {
    const out: FailoverEventLine[] = [];
    for (const l of this.host(id).log) {
      if (!l.includes('"Failover event"')) continue;
      try {
        out.push(JSON.parse(l) as FailoverEventLine);
      } catch {}
    }
    return out;
  }

  setFaults(id: string, faults: Record<string, unknown>): void {
    writeFileSync(join(this.host(id).home, "faults.json"), JSON.stringify(faults));
  }

  ledger(): LedgerLine[] {
    return readLedger(this.ledgerFile);
  }

  doubleSigns(): string[] {
    return doubleSigns(this.ledger());
  }

  /** Nodes that signed at or after `since` (ms). */
  signers(since = 0): Set<string> {
    return new Set(this.ledger().flatMap((l) => (l.type === "sign" && l.t >= since ? [l.node] : [])));
  }

  nodeRunning(id: string): boolean {
    try {
      execFileSync("bash", [CTL, "is-running", this.host(id).home]);
      return true;
    } catch {
      return false;
    }
  }

  /** Polls until `f` holds; fails with `what` and the daemons' last log lines when it never does. */
  async waitFor(what: string, f: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await f())) {
      if (Date.now() > end) {
        const logs = [...this.hosts.values()].map((h) => `--- ${h.spec.id}\n${h.log.slice(-15).join("\n")}`).join("\n");
        throw new Error(`timed out waiting for: ${what}\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The story of a run (daemon logs and node starts/stops), printed when DEBUG_FAILOVER is set. */
  dump(): void {
    if (!process.env.DEBUG_FAILOVER) return;
    for (const h of this.hosts.values()) {
      const lines = h.log.flatMap((l) => {
        try {
          const { time, msg, level: _l, pid: _p, hostname: _h, ...rest } = JSON.parse(l) as Record<string, unknown>;
          return msg === "HTTP request" ? [] : [`${Number(time) % 100_000} ${msg} ${JSON.stringify(rest)}`];
        } catch {
          return [l];
        }
      });
      console.log(`--- ${h.spec.id}\n${lines.join("\n")}`);
    }
    console.log(
      this.ledger()
        .filter((l) => l.type !== "sign")
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
  }

  /** Kills every daemon and fake node this cluster started and removes its files. */
  async destroy(): Promise<void> {
    for (const id of this.hosts.keys()) await this.killDaemon(id);
    for (const h of this.hosts.values()) {
      try {
        execFileSync("bash", [CTL, "kill", h.home]);
      } catch {}
    }
    this.tmp.cleanup();
  }
}
