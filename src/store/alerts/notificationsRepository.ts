import { num, numOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

export interface NotificationRow {
  id: number;
  alertId: number | null;
  sink: string;
  action: string;
  /** JSON of the event as it was when decided. */
  payload: string;
  attempts: number;
}

/** The notification outbox: rows are written with the decision and delivered after commit. */
export const notificationsRepository = {
  async enqueue(
    tx: SqlTx,
    n: { alertId: number | null; sink: string; action: string; payload: string; now: number },
  ): Promise<void> {
    await tx.run(
      `INSERT INTO alert_notifications (alert_id, sink, action, payload, state, attempts, next_at, created_at)
       VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)`,
      [n.alertId, n.sink, n.action, n.payload, n.now],
    );
  },

  /**
   * Claims due rows for `leaseMs` (another process, or this one after a crash, takes them back when the
   * lease runs out). PostgreSQL skips rows another process is claiming right now.
   */
  async claimDue(tx: SqlTx, now: number, leaseMs: number, limit: number): Promise<NotificationRow[]> {
    const skip = tx.dialect === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
    const rows = await tx.all(
      `UPDATE alert_notifications SET claimed_until = $2
       WHERE id IN (SELECT id FROM alert_notifications
         WHERE state = 'pending' AND next_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
         ORDER BY id LIMIT $3 ${skip})
       RETURNING id, alert_id, sink, action, payload, attempts`,
      [now, now + leaseMs, limit],
    );
    return rows
      .map((r) => ({
        id: num(r.id),
        alertId: numOrNull(r.alert_id),
        sink: String(r.sink),
        action: String(r.action),
        payload: String(r.payload),
        attempts: num(r.attempts),
      }))
      .sort((a, b) => a.id - b.id);
  },

  async markSent(tx: SqlTx, id: number, now: number): Promise<void> {
    await tx.run(
      "UPDATE alert_notifications SET state = 'sent', sent_at = $2, attempts = attempts + 1, claimed_until = NULL WHERE id = $1",
      [id, now],
    );
  },

  async markFailed(
    tx: SqlTx,
    id: number,
    f: { nextAt: number; error: string; dead: boolean; countAttempt: boolean },
  ): Promise<void> {
    await tx.run(
      `UPDATE alert_notifications SET state = $2, next_at = $3, last_error = $4, claimed_until = NULL,
         attempts = attempts + $5 WHERE id = $1`,
      [id, f.dead ? "dead" : "pending", f.nextAt, f.error.slice(0, 500), f.countAttempt ? 1 : 0],
    );
  },

  async countByState(tx: SqlTx): Promise<Record<string, number>> {
    const rows = await tx.all("SELECT state, count(*) AS n FROM alert_notifications GROUP BY state");
    return Object.fromEntries(rows.map((r) => [String(r.state), num(r.n)]));
  },

  async list(tx: SqlTx, alertId: number): Promise<{ sink: string; action: string; state: string; attempts: number }[]> {
    const rows = await tx.all(
      "SELECT sink, action, state, attempts FROM alert_notifications WHERE alert_id = $1 ORDER BY id",
      [alertId],
    );
    return rows.map((r) => ({
      sink: String(r.sink),
      action: String(r.action),
      state: String(r.state),
      attempts: num(r.attempts),
    }));
  },
};
