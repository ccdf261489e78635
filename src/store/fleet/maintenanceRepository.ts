import { num } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

export interface MaintenanceRow {
  id: number;
  ownerId: number;
  hostId: number;
  hostName: string;
  startsAt: number;
  endsAt: number;
  reason: string;
  createdBy: string;
  createdAt: number;
}

const COLS = `m.id, m.owner_id, m.host_id, h.name AS host_name, m.starts_at, m.ends_at, m.reason, m.created_by, m.created_at`;

/** Maintenance windows per host. */
export const maintenanceRepository = {
  async insert(tx: SqlTx, m: Omit<MaintenanceRow, "id" | "hostName">): Promise<number> {
    const rows = await tx.all<{ id: unknown }>(
      `INSERT INTO fleet_maintenance (owner_id, host_id, starts_at, ends_at, reason, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [m.ownerId, m.hostId, m.startsAt, m.endsAt, m.reason, m.createdBy, m.createdAt],
    );
    return num(rows[0]!.id);
  },

  async update(tx: SqlTx, id: number, m: { startsAt: number; endsAt: number; reason: string }): Promise<void> {
    await tx.run("UPDATE fleet_maintenance SET starts_at = $2, ends_at = $3, reason = $4 WHERE id = $1", [
      id,
      m.startsAt,
      m.endsAt,
      m.reason,
    ]);
  },

  async delete(tx: SqlTx, id: number): Promise<void> {
    await tx.run("DELETE FROM fleet_maintenance WHERE id = $1", [id]);
  },

  async get(tx: SqlTx, ownerId: number | null, id: number): Promise<MaintenanceRow | null> {
    const rows = await tx.all(
      `SELECT ${COLS} FROM fleet_maintenance m JOIN fleet_hosts h ON h.id = m.host_id
       WHERE m.id = $1 AND (m.owner_id = $2 OR $2 IS NULL)`,
      [id, ownerId],
    );
    return rows.length === 0 ? null : toRow(rows[0]!);
  },

  /** Windows of an owner (null: all) that end after `endsAfter`. */
  async list(tx: SqlTx, ownerId: number | null, endsAfter: number): Promise<MaintenanceRow[]> {
    const rows = await tx.all(
      `SELECT ${COLS} FROM fleet_maintenance m JOIN fleet_hosts h ON h.id = m.host_id
       WHERE (m.owner_id = $1 OR $1 IS NULL) AND m.ends_at > $2 ORDER BY m.starts_at, m.id`,
      [ownerId, endsAfter],
    );
    return rows.map(toRow);
  },
};

function toRow(r: Record<string, unknown>): MaintenanceRow {
  return {
    id: num(r.id),
    ownerId: num(r.owner_id),
    hostId: num(r.host_id),
    hostName: String(r.host_name),
    startsAt: num(r.starts_at),
    endsAt: num(r.ends_at),
    reason: String(r.reason),
    createdBy: String(r.created_by),
    createdAt: num(r.created_at),
  };
}
