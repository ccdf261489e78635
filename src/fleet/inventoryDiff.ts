import type { HostKeyRow, KeyRef } from "../store/index.js";
import type { AgentReport } from "./reportFormat.js";

export interface InventoryChange {
  /** Rows to write. */
  rows: HostKeyRow[];
  /** Rows whose history interval changes (a subset of rows). */
  history: HostKeyRow[];
  /** Keys whose presence, activity or staleness changed: the overlap rule must look at them now. */
  touched: KeyRef[];
}

/**
 * Compares a host's stored inventory with its new report. A key whose node was unreachable keeps its
 * last known activity, marked stale: an unreachable node is not evidence that it stopped signing. A
 * key missing from the report left the host (its row stays, present = false, for key_moved).
 */
export function diffInventory(
  existing: ReadonlyMap<string, HostKeyRow>,
  report: AgentReport,
  ctx: { hostId: number; ownerId: number; at: number },
): InventoryChange {
  const reachable = new Map(report.sources.map((s) => [s.id, s.reachable]));
  const out: InventoryChange = { rows: [], history: [], touched: [] };
  const seen = new Set<string>();
  for (const k of report.keys) {
    const id = `${k.chain}|${k.pubkey}`;
    seen.add(id);
    const prev = existing.get(id);
    const stale = reachable.get(k.source) !== true;
    const active = stale ? (prev?.active ?? false) : k.activity.active;
    const next: HostKeyRow = {
      hostId: ctx.hostId,
      chain: k.chain,
      pubkey: k.pubkey,
      ownerId: ctx.ownerId,
      keyType: k.keyType,
      source: k.source,
      present: true,
      active,
      certainty: stale ? (prev?.certainty ?? 0) : k.activity.certainty,
      stale,
      signerId: stale ? (prev?.signerId ?? null) : k.activity.signerId,
      facts: stale && prev !== undefined ? prev.facts : JSON.stringify(k.facts),
      firstSeenAt: prev?.firstSeenAt ?? ctx.at,
      changedAt: ctx.at,
      activeSince: active ? (prev?.active ? prev.activeSince : ctx.at) : null,
      inactiveSince: active ? null : prev === undefined ? null : prev.active ? ctx.at : prev.inactiveSince,
      historyCount: prev?.historyCount ?? 0,
    };
    push(out, prev, next);
  }
  for (const [id, prev] of existing) {
    if (seen.has(id) || !prev.present) continue;
    push(out, prev, {
      ...prev,
      present: false,
      active: false,
      stale: false,
      changedAt: ctx.at,
      activeSince: null,
      inactiveSince: prev.active ? ctx.at : prev.inactiveSince,
    });
  }
  return out;
}

function push(out: InventoryChange, prev: HostKeyRow | undefined, next: HostKeyRow): void {
  const state =
    prev === undefined || prev.present !== next.present || prev.active !== next.active || prev.stale !== next.stale;
  const other =
    prev === undefined ||
    prev.facts !== next.facts ||
    prev.certainty !== next.certainty ||
    prev.signerId !== next.signerId ||
    prev.keyType !== next.keyType ||
    prev.source !== next.source;
  if (!state && !other) return;
  out.rows.push(next);
  if (state || prev?.facts !== next.facts) out.history.push(next);
  if (state || prev?.signerId !== next.signerId || prev?.certainty !== next.certainty)
    out.touched.push({ ownerId: next.ownerId, chain: next.chain, pubkey: next.pubkey });
}
