import { createHash } from "node:crypto";
import { shortKey } from "../../util/logger.js";
import {
  type Detection,
  type DetectOptions,
  type HostState,
  type KeyGroup,
  type Observation,
  SEVERITY_OF,
} from "../types.js";
import type { BatchResult } from "./keyBatch.js";

/** Identity of an event: the same (kind, chain, key, host set) of one owner always hashes the same. */
export function dedupKey(
  kind: string,
  ownerId: number | null,
  chain: string | null,
  pubkey: string | null,
  hostIds: readonly number[],
  extra = "",
): string {
  const hosts = [...new Set(hostIds)].sort((a, b) => a - b);
  return createHash("sha256")
    .update(JSON.stringify([kind, ownerId, chain, pubkey, hosts, extra]))
    .digest("hex");
}

/** Detections of one group from its row of a batch result. */
export function groupDetections(g: KeyGroup, r: BatchResult, i: number, now: number): Detection[] {
  if (r.double[i] === 1) {
    const active = g.obs.filter((o) => o.active);
    return [
      {
        kind: "double_active",
        severity: SEVERITY_OF.double_active,
        ownerId: g.ownerId,
        chain: g.chain,
        pubkey: g.pubkey,
        hosts: active.map((o) => o.hostName).sort(),
        confidence: round(r.confidence[i]!),
        evidence: { observations: active.map(evidenceOf) },
        summary: `${g.chain} key ${shortKey(g.pubkey)} is actively signing on ${active.length} hosts: ${active
          .map((o) => o.hostName)
          .sort()
          .join(", ")}`,
        dedupKey: dedupKey(
          "double_active",
          g.ownerId,
          g.chain,
          g.pubkey,
          active.map((o) => o.hostId),
        ),
      },
    ];
  }
  const from = r.moveFrom[i]!;
  if (from < 0) return [];
  const a = g.obs[from]!;
  const b = g.obs[r.moveTo[i]!]!;
  return [
    {
      kind: "key_moved",
      severity: SEVERITY_OF.key_moved,
      ownerId: g.ownerId,
      chain: g.chain,
      pubkey: g.pubkey,
      hosts: [a.hostName, b.hostName],
      confidence: round(r.confidence[i]!),
      evidence: { from: evidenceOf(a), to: evidenceOf(b), now },
      summary: `${g.chain} key ${shortKey(g.pubkey)} moved from ${a.hostName} to ${b.hostName}`,
      // Ordered pair: a move back is another event.
      dedupKey: dedupKey("key_moved", g.ownerId, g.chain, g.pubkey, [a.hostId, b.hostId], `${a.hostId}>${b.hostId}`),
    },
  ];
}

/**
 * Host-level detections: agent_silent when a host missed `silentAfterIntervals` of its own intervals,
 * node_unreachable per node source its agent could not reach. A host in maintenance raises neither.
 */
export function hostDetections(hosts: readonly HostState[], now: number, opts: DetectOptions): Detection[] {
  const out: Detection[] = [];
  for (const h of hosts) {
    if (h.inMaintenance) continue;
    const silentFor = now - h.lastReportAt;
    if (silentFor > opts.silentAfterIntervals * h.intervalMs) {
      out.push({
        kind: "agent_silent",
        severity: SEVERITY_OF.agent_silent,
        ownerId: h.ownerId,
        chain: null,
        pubkey: null,
        hosts: [h.name],
        confidence: 1,
        evidence: { last_report_at: iso(h.lastReportAt), interval_ms: h.intervalMs, silent_for_ms: silentFor },
        summary: `agent on ${h.name} has not reported for ${Math.round(silentFor / 1000)} s (its keys may still be signing)`,
        dedupKey: dedupKey("agent_silent", h.ownerId, null, null, [h.id]),
      });
    }
    for (const s of h.sources) {
      if (s.reachable) continue;
      out.push({
        kind: "node_unreachable",
        severity: SEVERITY_OF.node_unreachable,
        ownerId: h.ownerId,
        chain: s.chain,
        pubkey: null,
        hosts: [h.name],
        confidence: 1,
        evidence: { source: s.source, error: s.error, since: iso(s.since) },
        summary: `agent on ${h.name} cannot reach its ${s.chain} node (${s.source})`,
        dedupKey: dedupKey("node_unreachable", h.ownerId, s.chain, null, [h.id], s.source),
      });
    }
  }
  return out;
}

function evidenceOf(o: Observation): Record<string, unknown> {
  return {
    host: o.hostName,
    active: o.active,
    certainty: o.certainty,
    stale: o.stale,
    signer: o.signerId,
    active_since: o.activeSince === null ? null : iso(o.activeSince),
    inactive_since: o.inactiveSince === null ? null : iso(o.inactiveSince),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
