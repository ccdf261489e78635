import type { Logger } from "../util/logger.js";
import type { FailoverEvents } from "./events.js";
import type { LeaseStore } from "./lease/lease.js";
import type { FailoverMetrics } from "./metrics.js";
import type { Monotonic, Timers } from "./monotonic.js";
import type { KeyFileIo } from "./node/localNode.js";
import type { NodeControl } from "./node/nodeControl.js";
import type { StateFileIo } from "./node/stateFile.js";
import type { Peers } from "./peers/peers.js";
import type { ChainRpc, EvmRpc } from "./peers/rpcClient.js";

export interface FailoverOptions {
  nodeId: string;
  /** active: take the lease when it is free (first start, or it was ours); passive: only replace a holder that went away. */
  startAs: "active" | "passive";
  /** The primary site takes the role back after `failbackGraceMs` of good health (failback: auto). */
  primary: boolean;
  failback: "auto" | "manual";
  tickMs: number;
  health: {
    minPeers: number;
    /** The height must grow within this long. */
    stallMs: number;
    /** Active: at least one own signature among this many recent commits. */
    signingWindow: number;
    maxCommitsPerCheck: number;
  };
  /** Consecutive failed (or good) checks before the health verdict changes. */
  retryAttempts: number;
  failbackGraceMs: number;
  /** At most one voluntary handover (step-down or failback) per window. */
  handoverWindowMs: number;
  stateSyncIntervalMs: number;
  lease: {
    ttlMs: number;
    /** The active stops its node when this much of the TTL is left without a renewal. */
    marginMs: number;
    renewIntervalMs: number;
    /** How long a lease handed to a named node stays reserved for it. */
    reserveMs: number;
  };
  /** How long the node's stop command is given to stop it (the self-stop must fit in the lease margin). */
  stopTimeoutMs: number;
  /**
   * How long after the lease ends the holder's node may still run or come up: a start in flight (up to
   * the command timeout, even with the daemon frozen) plus the longest stop, kill path included
   * (nodeControl.stopBoundMs). Announced to successors through the lease; a successor that has no other
   * proof waits the longer of this and its own bound after it first saw the lease ended.
   */
  stopBoundMs: number;
  chainCheck: { heights: number; timeoutMs: number; pollMs: number };
  /** How far back the chain is searched for the validator's last signature. */
  lookbackHeights: number;
  doubleSignCheckHeight: bigint;
  /** How long a promotion waits for proof that the old node stopped. */
  confirmStoppedTimeoutMs: number;
  /** Pause after a refused or failed promotion before the next try. */
  retryAfterMs: number;
  files: {
    /** The node's priv_validator_state.json. */
    stateFile: string;
    /** Our copy of the active's state, synced while passive (never lowered). */
    syncedStateFile: string;
    /** Where the node reads priv_validator_key.json. */
    nodeKeyFile: string;
    /** The node's config.toml (double_sign_check_height), or null to leave it alone. */
    nodeConfigFile: string | null;
    /** The validator key kept by slashguard on this host. */
    validatorKeyFile: string;
  };
}

export interface FailoverModules {
  lease: LeaseStore;
  node: NodeControl;
  chain: ChainRpc;
  evm: EvmRpc | null;
  peers: Peers;
  events: FailoverEvents;
  metrics: FailoverMetrics | null;
  logger: Logger;
  clock: Monotonic;
  sleep: (ms: number) => Promise<void>;
  /** Timers on `clock` (default: node's); the fault-schedule model injects simulated ones. */
  timers?: Timers;
  /** Key file reads and writes (default: the file system). */
  keyFiles?: KeyFileIo;
  /** State file reads and raises (default: the file system). */
  stateFiles?: StateFileIo;
}
