import { bool, num, textOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

export interface SweepHostRow {
  id: number;
  ownerId: number;
  name: string;
  lastReportAt: number;
  intervalMs: number;
}

export interface UnreachableSourceRow {
  hostId: number;
  source: string;
  chain: string;
  error: string | null;
  since: number;
}

/** What a full detection pass reads besides the key snapshot; and the one-sweep-per-interval claim. */
export const sweepRepository = {
  async hosts(tx: SqlTx): Promise<SweepHostRow[]> {
    const rows = await tx.all("SELECT id, owner_id, name, last_report_at, interval_ms FROM fleet_hosts");
    return rows.map((r) => ({
      id: num(r.id),
      ownerId: num(r.owner_id),
      name: String(r.name),
      lastReportAt: num(r.last_report_at),
      intervalMs: num(r.interval_ms),
    }));
  },

  async unreachableSources(tx: SqlTx): Promise<UnreachableSourceRow[]> {
    const rows = await tx.all(
      "SELECT host_id, source, chain, reachable, error, since FROM fleet_host_sources WHERE reachable = $1",
      [false],
    );
    return rows
      .filter((r) => !bool(r.reachable))
      .map((r) => ({
        hostId: num(r.host_id),
        source: String(r.source),
        chain: String(r.chain),
        error: textOrNull(r.error),
        since: num(r.since),
      }));
  },

  /** Hosts with a maintenance window open at `now`. */
  async hostsInMaintenance(tx: SqlTx, now: number): Promise<Set<number>> {
    const rows = await tx.all("SELECT DISTINCT host_id FROM fleet_maintenance WHERE starts_at <= $1 AND ends_at > $1", [
      now,
    ]);
    return new Set(rows.map((r) => num(r.host_id)));
  },

  /**
   * Claims the sweep for this interval: true for exactly one of the monitor processes sharing the
   * database (the row update serialises them).
   */
  async claimSweep(tx: SqlTx, now: number, intervalMs: number): Promise<boolean> {
    return (
      (await tx.run("UPDATE fleet_sweeps SET last_at = $1 WHERE id = 1 AND last_at <= $2", [now, now - intervalMs])) > 0
    );
  },
};
