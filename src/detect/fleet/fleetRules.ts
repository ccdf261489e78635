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

/** Certainty of a stale observation (node unreachable, last known state kept) is halved. */
export const STALE_FACTOR = 0.5;

/**
 * double_active: two or more hosts report the key actively signing, unless every one of them goes
 * through the same shared remote signer (which decides once for all). Returns the confidence (the
 * certainty of the second most certain host, a stale one counting half: the alert needs two), or null.
 */
export function doubleActive(g: KeyGroup): number | null {
  const active = g.obs.filter((o) => o.active);
  if (active.length < 2) return null;
  const signer = active[0]!.signerId;
  if (signer !== null && active.every((o) => o.signerId === signer)) return null;
  const certainties = active.map((o) => Math.max(0, o.certainty * (o.stale ? STALE_FACTOR : 1)));
  return certainties.sort((a, b) => b - a)[1]!;
}

/**
 * key_moved: exactly one host signs, it started within the window, and another host that held the key
 * before that start stopped within the window of it (a key briefly on a second host that left again did
 * not move: the first host had it all along). The latest such leave is the move's origin.
 */
export function keyMoved(g: KeyGroup, now: number, windowMs: number): { from: Observation; to: Observation } | null {
  const active = g.obs.filter((o) => o.active);
  if (active.length !== 1) return null;
  const to = active[0]!;
  const since = to.activeSince;
  if (since === null || now - since >= windowMs) return null;
  let from: Observation | null = null;
  for (const o of g.obs) {
    const left = o.inactiveSince;
    if (o.active || left === null || Math.abs(since - left) > windowMs || o.firstSeenAt >= since) continue;
    if (from === null || left > from.inactiveSince!) from = o;
  }
  return from === null ? null : { from, to };
}

/** The key-level detections of one group: double_active, else key_moved, else none. */
export function keyDetections(g: KeyGroup, now: number, keyMovedWindowMs: number): Detection[] {
  const confidence = doubleActive(g);
  if (confidence !== null) return [doubleActiveDetection(g, confidence)];
  const move = keyMoved(g, now, keyMovedWindowMs);
  return move === null ? [] : [keyMovedDetection(g, move.from, move.to, now)];
}

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

/** The double_active detection of a group (its active hosts) with the rule's confidence. */
export function doubleActiveDetection(g: KeyGroup, confidence: number): Detection {
  const active = g.obs.filter((o) => o.active);
  const names = active.map((o) => o.hostName).sort();
  return {
    kind: "double_active",
    severity: SEVERITY_OF.double_active,
    ownerId: g.ownerId,
    chain: g.chain,
    pubkey: g.pubkey,
    hosts: names,
    confidence: round(confidence),
    evidence: { observations: active.map(evidenceOf) },
    summary: `${g.chain} key ${shortKey(g.pubkey)} is actively signing on ${active.length} hosts: ${names.join(", ")}`,
    dedupKey: dedupKey(
      "double_active",
      g.ownerId,
      g.chain,
      g.pubkey,
      active.map((o) => o.hostId),
    ),
  };
}

/** The key_moved detection of a group, from host `a` to host `b` (confidence: b's certainty). */
export function keyMovedDetection(g: KeyGroup, a: Observation, b: Observation, now: number): Detection {
  return {
    kind: "key_moved",
    severity: SEVERITY_OF.key_moved,
    ownerId: g.ownerId,
    chain: g.chain,
    pubkey: g.pubkey,
    hosts: [a.hostName, b.hostName],
    confidence: round(b.certainty),
    evidence: { from: evidenceOf(a), to: evidenceOf(b), now },
    summary: `${g.chain} key ${shortKey(g.pubkey)} moved from ${a.hostName} to ${b.hostName}`,
    // Ordered pair: a move back is another event.
    dedupKey: dedupKey("key_moved", g.ownerId, g.chain, g.pubkey, [a.hostId, b.hostId], `${a.hostId}>${b.hostId}`),
  };
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
