import type { RefusalReason } from "./errors.js";

/**
 * What the failover tells operators. Delivered through an injected sink (cli/ wires it to the logger and,
 * where configured, to the alert sinks); delivery must never block or fail the failover itself.
 */
export type FailoverEvent =
  | {
      /**
       * failover: this node became the signer after another one (which stopped or died); failback: the
       * primary took the signer role back after its grace period.
       */
      kind: "failover" | "failback";
      node: string;
      previousHolder: string | null;
      epoch: bigint;
      reason: string;
      checkedHeights: string;
    }
  | {
      /** First start of the pair, or this node's own lease taken up again after a restart. */
      kind: "activated";
      node: string;
      epoch: bigint;
      reason: string;
    }
  | {
      /** This node stepped down on purpose (unhealthy, or a failback was asked for). */
      kind: "handover";
      node: string;
      epoch: bigint;
      target: string | null;
      reason: string;
    }
  | {
      /** The node was stopped because the lease was lost, could not be renewed in time, or was never ours. */
      kind: "self_stop";
      node: string;
      epoch: bigint;
      reason: "lease_lost" | "renew_deadline" | "fenced";
      detail: string;
      stopped: boolean;
    }
  | { kind: "promotion_refused"; node: string; reason: RefusalReason; detail: string };

export interface FailoverEvents {
  emit(event: FailoverEvent): void;
}
