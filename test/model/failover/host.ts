import { BlockIdFlag, type CommitInfo, type NetInfo, type NodeStatus } from "../../../src/chains/cometbft/rpcTypes.js";
import type { ValidatorState } from "../../../src/chains/cometbft/stateFile.js";
import { FailoverDaemon } from "../../../src/failover/daemon.js";
import { FailoverError, FailoverErrorCode } from "../../../src/failover/errors.js";
import type { LeaseStore } from "../../../src/failover/lease/lease.js";
import { generateDummyKey, parseValidatorKey, type ValidatorKeyInfo } from "../../../src/failover/node/keyFiles.js";
import type { KeyFileIo } from "../../../src/failover/node/localNode.js";
import type { NodeControl } from "../../../src/failover/node/nodeControl.js";
import { maxState, type StateFileIo } from "../../../src/failover/node/stateFile.js";
import type { FailoverOptions } from "../../../src/failover/options.js";
import type { PeerConfig, Peers, PeerView } from "../../../src/failover/peers/peers.js";
import type { ChainRpc } from "../../../src/failover/peers/rpcClient.js";
import { nullLogger } from "../../../src/util/logger.js";
import { Proc, through } from "./sim.js";
import { TIMING } from "./timing.js";
import type { World } from "./world.js";

export const VALIDATOR_TEXT = generateDummyKey("ed25519");
const VALIDATOR: ValidatorKeyInfo = parseValidatorKey(JSON.parse(VALIDATOR_TEXT), "model");

export type StartMode = { kind: "ok" } | { kind: "slow"; ms: number } | { kind: "fail" };
export type StopMode = { kind: "ok" } | { kind: "slow"; ms: number } | { kind: "fail" };

/** One validator host: its node (which outlives the daemon), files, and its current daemon process. */
export class Host {
  nodeRunning = false;
  loadedKey: "validator" | "dummy" | "unknown" | null = null;
  private pendingStart: ((e: Error) => void) | null = null;
  readonly files = new Map<string, string>();
  readonly state = new Map<string, ValidatorState>();
  readonly paths = { key: "/node/key.json", state: "/node/state.json", synced: "/node/synced.json", vk: "/vk.json" };
  proc: Proc | null = null;
  daemon: FailoverDaemon | null = null;
  startMode: StartMode = { kind: "ok" };
  stopMode: StopMode = { kind: "ok" };
  diskFull: "no" | "enospc" | "hang" = "no";
  storeDown: "no" | "down" | "answer_lost" = "no";
  unhealthy = false;
  unreachable = false;

  constructor(
    private readonly w: World,
    readonly id: string,
    readonly first: boolean,
  ) {
    this.files.set(this.paths.vk, VALIDATOR_TEXT);
  }

  private readonly control: NodeControl = {
    start: (signal) =>
      new Promise<void>((resolve, reject) => {
        const text = this.files.get(this.paths.key);
        const key = text === VALIDATOR_TEXT ? "validator" : text === undefined ? "unknown" : "dummy";
        const mode = this.startMode;
        if (mode.kind === "fail") {
          this.w.sim.after(200, () => reject(new Error("start failed")));
          return;
        }
        if (this.nodeRunning) return resolve();
        const cancel = this.w.sim.after(mode.kind === "slow" ? mode.ms : 200, () => {
          this.pendingStart = null;
          this.nodeRunning = true;
          this.loadedKey = key;
          this.w.check();
          resolve();
        });
        const abort = (e: Error): void => {
          cancel();
          this.pendingStart = null;
          reject(e);
        };
        this.pendingStart = abort;
        signal?.addEventListener("abort", () => abort(new Error("start aborted")), { once: true });
      }),
    // a stop cancels a start in progress (as systemd's stop job cancels the start job)
    stop: () =>
      new Promise<void>((resolve, reject) => {
        this.pendingStart?.(new Error("start cancelled by a stop"));
        const mode = this.stopMode;
        if (mode.kind === "fail") {
          this.w.sim.after(TIMING.stopTimeoutMs, () => reject(new Error("node did not stop")));
          return;
        }
        const ms = mode.kind === "slow" ? mode.ms : 100;
        this.w.sim.after(ms, () => {
          this.nodeRunning = false;
          this.loadedKey = null;
        });
        // the stop command answers within its timeout, confirmed or not
        this.w.sim.after(Math.min(ms, TIMING.stopTimeoutMs), () =>
          this.nodeRunning ? reject(new Error("node still running")) : resolve(),
        );
      }),
    isRunning: () => new Promise((r) => this.w.sim.after(5, () => r(this.nodeRunning || this.pendingStart !== null))),
  };

  private readonly keys: KeyFileIo = {
    address: async (path) => {
      const t = this.files.get(path);
      return t === undefined ? null : (JSON.parse(t) as { address: string }).address;
    },
    install: (path, content) =>
      new Promise((resolve, reject) => {
        if (this.diskFull === "hang") return; // a hung filesystem
        this.w.sim.after(5, () => {
          if (this.diskFull === "enospc") return reject(Object.assign(new Error("ENOSPC"), { code: "ENOSPC" }));
          this.files.set(path, content);
          resolve();
        });
      }),
    readValidatorKey: async () => ({ info: VALIDATOR, content: VALIDATOR_TEXT }),
  };

  private readonly stateIo: StateFileIo = {
    read: async (path) => this.state.get(path) ?? null,
    raise: async (path, candidates, assertStopped) => {
      await assertStopped();
      const before = this.state.get(path) ?? null;
      const after = maxState([before, ...candidates]) ?? { height: 0n, round: 0, step: 0 };
      this.state.set(path, after);
      return { before, after, written: true };
    },
  };

  private lease(): LeaseStore {
    const w = this.w;
    const call = <T>(op: () => T): Promise<T> =>
      new Promise((resolve, reject) => {
        if (this.storeDown === "down") {
          w.sim.after(TIMING.callTimeoutMs, () => reject(unavailable()));
          return;
        }
        const lost = this.storeDown === "answer_lost";
        w.sim.after(TIMING.callMs, () => {
          let v: T;
          try {
            v = op();
          } catch (e) {
            return reject(e);
          }
          if (lost) w.sim.after(TIMING.callTimeoutMs, () => reject(unavailable()));
          else resolve(v);
        });
      });
    return {
      kind: "model",
      read: () => call(() => w.record()),
      acquire: (r) => call(() => w.acquire(r)),
      renew: (g) => call(() => w.renew(g)),
      release: (g, o) => call(() => w.release(g, o)),
      requestHandover: (to) => call(() => w.requestHandover(to)),
      close: async () => {},
    };
  }

  private chain(): ChainRpc {
    const w = this.w;
    return {
      status: async (): Promise<NodeStatus> => ({
        network: "model",
        latestHeight: w.height,
        catchingUp: this.unhealthy,
        validatorAddress: "",
        votingPower: 0n,
      }),
      netInfo: async (): Promise<NetInfo> => ({ nPeers: 5 }),
      commit: async (h): Promise<CommitInfo> => {
        if (h > w.height) throw new Error("above the tip");
        const signed = (w.signedBy.get(h)?.size ?? 0) > 0;
        return {
          height: h,
          round: 0,
          canonical: h < w.height,
          signatures: [
            signed
              ? { flag: BlockIdFlag.Commit, validatorAddress: VALIDATOR.address, signature: "AA==" }
              : { flag: BlockIdFlag.Absent, validatorAddress: "", signature: null },
          ],
        };
      },
    };
  }

  private peers(proc: Proc): Peers {
    const w = this.w;
    const others = w.hosts.filter((h) => h !== this);
    const configs = new Map<string, PeerConfig>(
      others.map((h) => [h.id, { id: h.id, url: "model://", loopback: true }]),
    );
    const ask = <T>(id: string, f: (h: Host, d: FailoverDaemon) => T): Promise<T | null> =>
      new Promise((resolve) => {
        const h = w.host(id);
        const ok = (): boolean =>
          h?.proc?.state === "running" && h.daemon !== null && !h.unreachable && !this.unreachable;
        if (h === undefined || !ok()) {
          w.sim.after(TIMING.peerTimeoutMs, () => resolve(null));
          return;
        }
        w.sim.after(10, () => resolve(ok() ? f(h, h.daemon!) : null));
      });
    const status = (id: string): Promise<PeerView | null> =>
      ask(id, (_h, d) => {
        const s = d.status();
        return {
          nodeId: id,
          role: s.role,
          nodeRunning: s.node.running,
          starting: s.node.starting,
          key: s.node.key,
          ready: s.ready,
          authenticated: true,
        };
      });
    return {
      get: (id) => configs.get(id),
      status: (id) => proc.call(() => status(id)),
      validatorState: (id) => proc.call(() => ask(id, (h) => h.state.get(h.paths.state) ?? null)),
      firstReady: (except) =>
        proc.call(async () => {
          for (const h of others) {
            if (h.id === except) continue;
            if ((await status(h.id))?.ready) return h.id;
          }
          return null;
        }),
    };
  }

  options(): FailoverOptions {
    return {
      nodeId: this.id,
      startAs: this.first ? "active" : "passive",
      primary: this.first,
      failback: "auto",
      tickMs: TIMING.tickMs,
      health: { minPeers: 1, stallMs: 3000, signingWindow: 5, maxCommitsPerCheck: 10 },
      retryAttempts: 2,
      failbackGraceMs: 10_000,
      handoverWindowMs: 20_000,
      stateSyncIntervalMs: 2000,
      lease: { ttlMs: TIMING.ttlMs, marginMs: TIMING.marginMs, renewIntervalMs: TIMING.renewMs, reserveMs: 10_000 },
      stopTimeoutMs: TIMING.stopTimeoutMs,
      stopBoundMs: TIMING.commandTimeoutMs + TIMING.stopTimeoutMs,
      chainCheck: { heights: 3, timeoutMs: 20_000, pollMs: 500 },
      lookbackHeights: 20,
      doubleSignCheckHeight: 3n,
      confirmStoppedTimeoutMs: 10_000,
      retryAfterMs: 2000,
      files: {
        stateFile: this.paths.state,
        syncedStateFile: this.paths.synced,
        nodeKeyFile: this.paths.key,
        nodeConfigFile: null,
        validatorKeyFile: this.paths.vk,
      },
    };
  }

  /** Starts a fresh daemon process on this host (first start, or restart after a crash). */
  boot(): void {
    const proc = new Proc(this.w.sim);
    this.proc = proc;
    this.daemon = null;
    void FailoverDaemon.start(this.options(), {
      lease: through(proc, this.lease()),
      node: through(proc, this.control),
      chain: through(proc, this.chain()),
      evm: null,
      peers: this.peers(proc),
      events: { emit: () => {} },
      metrics: null,
      logger: nullLogger,
      clock: this.w.sim,
      sleep: proc.sleep,
      timers: proc,
      keyFiles: through(proc, this.keys),
      stateFiles: through(proc, this.stateIo),
    }).then(
      (d) => {
        if (this.proc === proc) this.daemon = d;
      },
      (e: unknown) => this.w.violations.push(`daemon ${this.id} failed to start: ${String(e)}`),
    );
  }

  crash(): void {
    this.proc?.kill();
    this.proc = null;
    this.daemon = null;
  }
}

function unavailable(): FailoverError {
  return new FailoverError({ code: FailoverErrorCode.LeaseUnavailable, cause: "model outage" }, "store unreachable");
}
