import type { FleetQueries, HistoryRow, KeyObservationRow, MaintenanceRow } from "../../../fleet/index.js";
import type { HistoryInterval, Host, KeyRow, MaintenanceWindow } from "../../../schemas/fleet.js";
import { csvCell } from "./params.js";

/** Wire forms (src/schemas/fleet.ts) of the fleet's rows. */

export function windowView(w: MaintenanceRow): MaintenanceWindow {
  return {
    id: w.id,
    host_id: w.hostId,
    host: w.hostName,
    starts_at: iso(w.startsAt),
    ends_at: iso(w.endsAt),
    reason: w.reason,
    created_by: w.createdBy,
    created_at: iso(w.createdAt),
  };
}

export function hostView(h: Awaited<ReturnType<FleetQueries["hosts"]>>[number]): Host {
  return {
    id: h.id,
    name: h.name,
    owner: h.ownerName,
    agent_version: h.agentVersion,
    interval_ms: h.intervalMs,
    first_seen: iso(h.firstSeenAt),
    last_report_at: iso(h.lastReportAt),
    reports_total: h.reportsTotal,
    silent: h.silent,
    keys_present: h.keysPresent,
    keys_active: h.keysActive,
    nodes: h.sources.map((n) => ({
      source: n.source,
      chain: n.chain,
      reachable: n.reachable,
      error: n.error,
      since: iso(n.since),
      info: JSON.parse(n.info) as Record<string, unknown>,
    })),
    maintenance: h.maintenance === null ? null : windowView(h.maintenance),
  };
}

export function keyView(k: KeyObservationRow): KeyRow {
  return {
    chain: k.chain,
    pubkey: k.pubkey,
    key_type: k.keyType,
    host_id: k.hostId,
    host: k.hostName,
    status: k.active ? "active" : "inactive",
    stale: k.stale,
    certainty: k.certainty,
    source: k.source,
    facts: JSON.parse(k.facts) as unknown,
    first_seen: iso(k.firstSeenAt),
    changed_at: iso(k.changedAt),
  };
}

export function historyView(r: HistoryRow): HistoryInterval {
  return {
    host_id: r.hostId,
    host: r.hostName,
    chain: r.chain,
    present: r.present,
    active: r.active,
    stale: r.stale,
    from: iso(r.fromAt),
    to: r.toAt === null ? null : iso(r.toAt),
    facts: JSON.parse(r.facts) as unknown,
    report_id: r.reportId,
    // > 1: older intervals merged into this one (present/active if any of them was)
    changes: r.changes,
  };
}

export function csvRow(r: HistoryRow): string {
  return [
    r.hostName,
    r.chain,
    r.pubkey,
    r.present,
    r.active,
    r.stale,
    iso(r.fromAt),
    r.toAt === null ? "" : iso(r.toAt),
    r.facts,
  ]
    .map(csvCell)
    .join(",");
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
