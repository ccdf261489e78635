import { BlockIdFlag, type CommitInfo, type NetInfo, type NodeStatus } from "../../../src/chains/cometbft/rpcTypes.js";
import type { ValidatorState } from "../../../src/chains/cometbft/stateFile.js";
import type { FailoverEvent, FailoverEvents } from "../../../src/failover/events.js";
import type { NodeControl } from "../../../src/failover/node/nodeControl.js";
import type { PeerConfig, Peers, PeerView } from "../../../src/failover/peers/peers.js";
import type { ChainRpc } from "../../../src/failover/peers/rpcClient.js";

export const VALIDATOR = "AB".repeat(20);
const OTHER = "CD".repeat(20);

/** An in-memory chain as its node's RPC shows it; tests move the tip and choose who signed what. */
export class FakeChain implements ChainRpc {
  latest = 10n;
  catchingUp = false;
  peers = 5;
  /** Heights whose commit holds the validator's precommit. */
  readonly signed = new Set<bigint>();
  /** Each status() call moves the tip by this much (a live chain). */
  advancePerStatus = 0n;
  failStatus = false;
  calls = 0;

  async status(): Promise<NodeStatus> {
    this.calls++;
    if (this.failStatus) throw new Error("rpc down");
    this.latest += this.advancePerStatus;
    return {
      network: "test-1",
      latestHeight: this.latest,
      catchingUp: this.catchingUp,
      validatorAddress: OTHER,
      votingPower: 0n,
    };
  }

  async netInfo(): Promise<NetInfo> {
    return { nPeers: this.peers };
  }

  async commit(height: bigint): Promise<CommitInfo> {
    if (height > this.latest) throw new Error(`height ${height} is above the tip`);
    return {
      height,
      round: 0,
      canonical: height < this.latest,
      signatures: [
        { flag: BlockIdFlag.Commit, validatorAddress: OTHER, signature: "AA==" },
        this.signed.has(height)
          ? { flag: BlockIdFlag.Commit, validatorAddress: VALIDATOR, signature: "AA==" }
          : { flag: BlockIdFlag.Absent, validatorAddress: "", signature: null },
      ],
    };
  }
}

/** Node control that records every call; `running` is what isRunning answers. */
export class FakeNode implements NodeControl {
  running = false;
  readonly ops: string[] = [];
  failStart = false;
  failStop = false;
  /** Called at start (tests look at the files the node would load). */
  onStart: (() => void) | null = null;
  /** When set, a start waits for it (a slow start); an abort ends the wait with an error. */
  startGate: Promise<void> | null = null;

  async start(signal?: AbortSignal): Promise<void> {
    this.ops.push("start");
    if (this.failStart) throw new Error("start failed");
    if (this.startGate !== null) {
      await new Promise<void>((resolve, reject) => {
        signal?.addEventListener("abort", () => reject(new Error("start aborted")), { once: true });
        this.startGate?.then(resolve, reject);
      });
    }
    this.onStart?.();
    this.running = true;
  }

  async stop(): Promise<void> {
    this.ops.push("stop");
    if (this.failStop) throw new Error("stop failed");
    this.running = false;
  }

  async isRunning(): Promise<boolean> {
    return this.running;
  }
}

export class FakePeers implements Peers {
  readonly views = new Map<string, PeerView>();
  readonly states = new Map<string, ValidatorState>();
  readonly configs = new Map<string, PeerConfig>();

  get(id: string): PeerConfig | undefined {
    return this.configs.get(id);
  }

  async status(id: string): Promise<PeerView | null> {
    return this.views.get(id) ?? null;
  }

  async validatorState(id: string): Promise<ValidatorState | null> {
    return this.states.get(id) ?? null;
  }

  async firstReady(except: string): Promise<string | null> {
    for (const [id, v] of this.views) if (id !== except && v.ready) return id;
    return null;
  }
}

export class EventLog implements FailoverEvents {
  readonly events: FailoverEvent[] = [];
  emit(e: FailoverEvent): void {
    this.events.push(e);
  }
  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
}

/** A monotonic clock the test moves by hand; sleep() advances it instead of waiting. */
export class ManualClock {
  t = 1_000_000;
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.t += ms;
    await Promise.resolve();
  };
}
