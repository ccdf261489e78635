import type { SqlTx } from "../types.js";

/** One outbox row (see migrations 0011_event_outbox.sql and 0014_event_outbox_packed.sql). */
export interface OutboxEvent {
  /** 0011 rows: the event's de-duplication id. Packed rows: the row's random id (event ids derive from it). */
  msgId: string;
  /** 0011 rows: the event's subject. Packed rows: the kind of its events. */
  subject: string;
  /** JSON text. */
  payload: string;
  createdAtMs: number;
  /** Events the row holds; 0 = one ready event (0011's form). */
  events: number;
}

export interface OutboxRow extends OutboxEvent {
  seq: number;
}

/** Outbox statements for both dialects. */
export const outboxRepository = {
  /**
   * Adds rows inside the caller's transaction (the one that commits their protection records). PostgreSQL:
   * one statement sent with COMMIT (no round trip of its own), text as base64 literals so no text can break
   * out of them; SQLite: one in-process statement per 200 rows.
   */
  async insert(tx: SqlTx, rows: readonly OutboxEvent[]): Promise<void> {
    if (rows.length === 0) return;
    if (tx.dialect === "postgres") {
      tx.runAtCommit(
        `INSERT INTO event_outbox (msg_id, subject, payload, created_at_ms, events)
         SELECT * FROM unnest(${texts(rows.map((e) => e.msgId))}, ${texts(rows.map((e) => e.subject))},
           ${texts(rows.map((e) => e.payload))}, ${bigints(rows.map((e) => e.createdAtMs))}::bigint[],
           ${bigints(rows.map((e) => e.events))}::int[])`,
      );
      return;
    }
    for (let i = 0; i < rows.length; i += 200) {
      const part = rows.slice(i, i + 200);
      await tx.run(
        `INSERT INTO event_outbox (msg_id, subject, payload, created_at_ms, events) VALUES ${part
          .map((_, j) => `($${5 * j + 1}, $${5 * j + 2}, $${5 * j + 3}, $${5 * j + 4}, $${5 * j + 5})`)
          .join(", ")}`,
        part.flatMap((e) => [e.msgId, e.subject, e.payload, e.createdAtMs, e.events]),
      );
    }
  },

  /** The oldest `limit` rows after seq `after` (0: from the start), in seq order. */
  async oldest(tx: SqlTx, limit: number, after = 0): Promise<OutboxRow[]> {
    const rows = await tx.all<{
      seq: unknown;
      msg_id: string;
      subject: string;
      payload: string;
      created_at_ms: unknown;
      events: unknown;
    }>(
      "SELECT seq, msg_id, subject, payload, created_at_ms, events FROM event_outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
      [after, limit],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      msgId: r.msg_id,
      subject: r.subject,
      payload: r.payload,
      createdAtMs: Number(r.created_at_ms),
      events: Number(r.events),
    }));
  },

  /** Deletes published rows by seq (never "seq <= x": on PostgreSQL a lower seq may commit later). */
  async remove(tx: SqlTx, seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    if (tx.dialect === "postgres") {
      await tx.run("DELETE FROM event_outbox WHERE seq = ANY($1::bigint[])", [seqs]);
      return;
    }
    for (let i = 0; i < seqs.length; i += 500) {
      const part = seqs.slice(i, i + 500);
      await tx.run(`DELETE FROM event_outbox WHERE seq IN (${part.map((_, j) => `$${j + 1}`).join(",")})`, part);
    }
  },

  /** Events waiting in rows after seq `after`, and the creation time of the oldest such row. */
  async backlog(tx: SqlTx, after = 0): Promise<{ count: number; oldestMs: number | null }> {
    const rows = await tx.all<{ n: unknown; oldest: unknown }>(
      `SELECT coalesce(sum(CASE WHEN events = 0 THEN 1 ELSE events END), 0) AS n,
         (SELECT created_at_ms FROM event_outbox WHERE seq > $1 ORDER BY seq LIMIT 1) AS oldest
       FROM event_outbox WHERE seq > $1`,
      [after],
    );
    const r = rows[0];
    return {
      count: Number(r?.n ?? 0),
      oldestMs: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest),
    };
  },
};

/** A text[] literal built from base64 (no character of the text appears in the SQL). */
function texts(vs: readonly string[]): string {
  return `ARRAY[${vs.map((v) => `convert_from(decode('${Buffer.from(v, "utf8").toString("base64")}','base64'),'UTF8')`).join(",")}]::text[]`;
}

function bigints(vs: readonly number[]): string {
  return `ARRAY[${vs
    .map((v) => {
      if (!Number.isSafeInteger(v)) throw new TypeError(`not an integer: ${v}`);
      return String(v);
    })
    .join(",")}]`;
}
