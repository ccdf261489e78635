import { num, numOrNull, textOrNull } from "../sqlValues.js";
import type { SqlScalar, SqlTx } from "../types.js";

export type AlertStatus = "open" | "acknowledged" | "suppressed" | "resolved";

export interface AlertRow {
  id: number;
  ownerId: number | null;
  kind: string;
  severity: string;
  chain: string | null;
  pubkey: string | null;
  hosts: string[];
  dedupKey: string;
  status: AlertStatus;
  confidence: number;
  summary: string;
  /** JSON object. */
  evidence: string;
  firstSeenAt: number;
  lastSeenAt: number;
  updatedAt: number;
  clearSince: number | null;
  suppressedUntil: number | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
  lastNotifiedAt: number | null;
}

export interface AlertEventRow {
  alertId: number;
  at: number;
  actor: string;
  action: string;
  note: string | null;
}

export interface AlertListFilter {
  ownerId: number | null;
  status?: AlertStatus;
  kind?: string;
  chain?: string;
  pubkey?: string;
  updatedSince?: number;
  beforeId?: number;
  limit: number;
}

const COLS = `id, owner_id, kind, severity, chain, pubkey, hosts, dedup_key, status, confidence, summary, evidence,
  first_seen_at, last_seen_at, updated_at, clear_since, suppressed_until, acknowledged_by, acknowledged_at,
  resolved_by, resolved_at, last_notified_at`;

/** Alerts and their audit trail. */
export const alertsRepository = {
  async findUnresolved(tx: SqlTx, dedupKey: string): Promise<AlertRow | null> {
    const rows = await tx.all(`SELECT ${COLS} FROM alerts WHERE dedup_key = $1 AND status <> 'resolved'`, [dedupKey]);
    return rows.length === 0 ? null : toAlert(rows[0]!);
  },

  /** The newest alert of a dedup key, whatever its status. */
  async latest(tx: SqlTx, dedupKey: string): Promise<AlertRow | null> {
    const rows = await tx.all(`SELECT ${COLS} FROM alerts WHERE dedup_key = $1 ORDER BY id DESC LIMIT 1`, [dedupKey]);
    return rows.length === 0 ? null : toAlert(rows[0]!);
  },

  async unresolvedOfKinds(tx: SqlTx, kinds: readonly string[]): Promise<AlertRow[]> {
    const rows = await tx.all(`SELECT ${COLS} FROM alerts WHERE status <> 'resolved' ORDER BY id`);
    const wanted = new Set(kinds);
    return rows.map(toAlert).filter((a) => wanted.has(a.kind));
  },

  async insert(tx: SqlTx, a: Omit<AlertRow, "id">): Promise<number> {
    const rows = await tx.all<{ id: unknown }>(
      `INSERT INTO alerts (owner_id, kind, severity, chain, pubkey, hosts, dedup_key, first_seen_at, status, confidence,
         summary, evidence, last_seen_at, updated_at, clear_since, suppressed_until, acknowledged_by, acknowledged_at,
         resolved_by, resolved_at, last_notified_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id`,
      [
        a.ownerId,
        a.kind,
        a.severity,
        a.chain,
        a.pubkey,
        JSON.stringify(a.hosts),
        a.dedupKey,
        a.firstSeenAt,
        ...mutable(a),
      ],
    );
    return num(rows[0]!.id);
  },

  /** Writes every mutable field of an alert. */
  async save(tx: SqlTx, a: AlertRow): Promise<void> {
    await tx.run(
      `UPDATE alerts SET status = $2, confidence = $3, summary = $4, evidence = $5, last_seen_at = $6, updated_at = $7,
         clear_since = $8, suppressed_until = $9, acknowledged_by = $10, acknowledged_at = $11, resolved_by = $12,
         resolved_at = $13, last_notified_at = $14
       WHERE id = $1`,
      [a.id, ...mutable(a)],
    );
  },

  async get(tx: SqlTx, id: number, ownerId: number | null): Promise<AlertRow | null> {
    const rows = await tx.all(`SELECT ${COLS} FROM alerts WHERE id = $1 AND (owner_id = $2 OR $2 IS NULL)`, [
      id,
      ownerId,
    ]);
    return rows.length === 0 ? null : toAlert(rows[0]!);
  },

  async list(tx: SqlTx, f: AlertListFilter): Promise<AlertRow[]> {
    const rows = await tx.all(
      `SELECT ${COLS} FROM alerts
       WHERE (owner_id = $1 OR $1 IS NULL) AND (status = $2 OR $2 IS NULL) AND (kind = $3 OR $3 IS NULL)
         AND (chain = $4 OR $4 IS NULL) AND (pubkey = $5 OR $5 IS NULL) AND (updated_at > $6 OR $6 IS NULL)
         AND (id < $7 OR $7 IS NULL)
       ORDER BY id DESC LIMIT $8`,
      [
        f.ownerId,
        f.status ?? null,
        f.kind ?? null,
        f.chain ?? null,
        f.pubkey ?? null,
        f.updatedSince ?? null,
        f.beforeId ?? null,
        f.limit,
      ],
    );
    return rows.map(toAlert);
  },

  async insertEvent(tx: SqlTx, e: AlertEventRow): Promise<void> {
    await tx.run("INSERT INTO alert_events (alert_id, at, actor, action, note) VALUES ($1, $2, $3, $4, $5)", [
      e.alertId,
      e.at,
      e.actor,
      e.action,
      e.note,
    ]);
  },

  async events(tx: SqlTx, alertId: number): Promise<AlertEventRow[]> {
    const rows = await tx.all(
      "SELECT alert_id, at, actor, action, note FROM alert_events WHERE alert_id = $1 ORDER BY id",
      [alertId],
    );
    return rows.map((r) => ({
      alertId: num(r.alert_id),
      at: num(r.at),
      actor: String(r.actor),
      action: String(r.action),
      note: textOrNull(r.note),
    }));
  },
};

function toAlert(r: Record<string, unknown>): AlertRow {
  return {
    id: num(r.id),
    ownerId: numOrNull(r.owner_id),
    kind: String(r.kind),
    severity: String(r.severity),
    chain: textOrNull(r.chain),
    pubkey: textOrNull(r.pubkey),
    hosts: JSON.parse(String(r.hosts)) as string[],
    dedupKey: String(r.dedup_key),
    status: String(r.status) as AlertStatus,
    confidence: Number(r.confidence),
    summary: String(r.summary),
    evidence: String(r.evidence),
    firstSeenAt: num(r.first_seen_at),
    lastSeenAt: num(r.last_seen_at),
    updatedAt: num(r.updated_at),
    clearSince: numOrNull(r.clear_since),
    suppressedUntil: numOrNull(r.suppressed_until),
    acknowledgedBy: textOrNull(r.acknowledged_by),
    acknowledgedAt: numOrNull(r.acknowledged_at),
    resolvedBy: textOrNull(r.resolved_by),
    resolvedAt: numOrNull(r.resolved_at),
    lastNotifiedAt: numOrNull(r.last_notified_at),
  };
}

/** The mutable fields of an alert, in the order insert and save bind them. */
function mutable(a: Omit<AlertRow, "id">): SqlScalar[] {
  return [
    a.status,
    a.confidence,
    a.summary,
    a.evidence,
    a.lastSeenAt,
    a.updatedAt,
    a.clearSince,
    a.suppressedUntil,
    a.acknowledgedBy,
    a.acknowledgedAt,
    a.resolvedBy,
    a.resolvedAt,
    a.lastNotifiedAt,
  ];
}
