import type { HealthReport } from "./health.js";
import { handoverAllowed } from "./hysteresis.js";
import type { LeaseRecord } from "./lease/lease.js";
import type { FailoverModules, FailoverOptions } from "./options.js";
import type { DaemonReporter } from "./reporter.js";

export interface HandoverInputs {
  lease: LeaseRecord | null;
  /** The node a failback request named (from the last renewal), or null. */
  requested: string | null;
  healthy: boolean;
  lastReport: HealthReport | null;
}

/**
 * An active host's question each tick: hand over, and to whom? A failback asked for by a ready peer, or a
 * ready peer when this node is unhealthy; at most once per handover window. Null: stay active (the reason
 * is warned once).
 */
export async function chooseHandover(
  opts: FailoverOptions,
  m: FailoverModules,
  report: DaemonReporter,
  h: HandoverInputs,
): Promise<{ target: string; reason: string } | null> {
  const windowOk = handoverAllowed(h.lease?.acquiredAgoMs ?? null, opts.handoverWindowMs);
  const target = h.requested;
  if (target !== null && target !== opts.nodeId) {
    if (!windowOk) report.warnOnce("window", "Failback asked for, but the handover window is still closed", { target });
    else if ((await m.peers.status(target))?.ready) return { target, reason: `failback asked for by ${target}` };
  }
  if (h.healthy) return null;
  const failed = (h.lastReport?.checks ?? []).filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  if (!windowOk) {
    report.warnOnce("window", "Node unhealthy, but the handover window is still closed; staying active", { failed });
    return null;
  }
  const ready = await m.peers.firstReady(opts.nodeId);
  if (ready === null) {
    report.warnOnce("no-peer", "Node unhealthy, but no peer is ready to take over; staying active", { failed });
    return null;
  }
  return { target: ready, reason: `unhealthy: ${failed.join("; ")}` };
}
