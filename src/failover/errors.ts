import { AppError } from "../util/errors.js";

export enum FailoverErrorCode {
  /** Another node holds a live lease (or it is reserved for the node a handover names). */
  LeaseHeld = "ERR_FAILOVER_LEASE_HELD",
  /** Our lease was taken over, released, or expired: the holder must stop signing at once. */
  LeaseLost = "ERR_FAILOVER_LEASE_LOST",
  /** The lease store did not answer (in time). */
  LeaseUnavailable = "ERR_FAILOVER_LEASE_UNAVAILABLE",
  StateInvalid = "ERR_FAILOVER_STATE_INVALID",
  /** The state file or key may only change while the node is stopped. */
  NodeRunning = "ERR_FAILOVER_NODE_RUNNING",
  NodeCommand = "ERR_FAILOVER_NODE_COMMAND",
  NodeStopFailed = "ERR_FAILOVER_NODE_STOP_FAILED",
  KeyInvalid = "ERR_FAILOVER_KEY_INVALID",
  NodeConfigInvalid = "ERR_FAILOVER_NODE_CONFIG_INVALID",
  RpcUnavailable = "ERR_FAILOVER_RPC_UNAVAILABLE",
  PromotionRefused = "ERR_FAILOVER_PROMOTION_REFUSED",
  /** Peer authentication: a bad token file, or a peer answer that is not signed with the shared token. */
  PeerAuth = "ERR_FAILOVER_PEER_AUTH",
}

/** Why a promotion did not happen; each one is an event and a metric label. */
export enum RefusalReason {
  LeaseHeld = "lease_held",
  OldNotStopped = "old_not_stopped",
  ChainSignatures = "chain_signatures",
  ChainStalled = "chain_stalled",
  Unhealthy = "unhealthy",
  StateUnavailable = "state_unavailable",
  LeaseLost = "lease_lost",
  NodeFailed = "node_failed",
}

export type FailoverErrorType =
  | { code: FailoverErrorCode.LeaseHeld; holder: string; epoch: bigint }
  | { code: FailoverErrorCode.LeaseLost; epoch: bigint; holder: string | null }
  | { code: FailoverErrorCode.LeaseUnavailable; cause: string }
  | { code: FailoverErrorCode.StateInvalid; file: string; field: string }
  | { code: FailoverErrorCode.NodeRunning; file: string }
  | { code: FailoverErrorCode.NodeCommand; command: string; exitCode: number | null; signal: string | null }
  | { code: FailoverErrorCode.NodeStopFailed; waitedMs: number }
  | { code: FailoverErrorCode.KeyInvalid; file: string; field: string }
  | { code: FailoverErrorCode.NodeConfigInvalid; file: string }
  | { code: FailoverErrorCode.RpcUnavailable; url: string; cause: string }
  | { code: FailoverErrorCode.PromotionRefused; reason: RefusalReason; detail: string }
  | { code: FailoverErrorCode.PeerAuth; reason: "token_too_short" | "unsigned_answer" };

export class FailoverError extends AppError<FailoverErrorType> {}

export function refused(reason: RefusalReason, detail: string): FailoverError {
  return new FailoverError(
    { code: FailoverErrorCode.PromotionRefused, reason, detail },
    `promotion refused (${reason}): ${detail}`,
  );
}
