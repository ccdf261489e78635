import type { SqlTx } from "../types.js";

/** One event waiting in the outbox (see migrations 0011_event_outbox.sql). */
export interface OutboxEvent {
  /** De-duplication id on the bus (JetStream Nats-Msg-Id); the event's `id` field. */
  msgId: string;
  subject: string;
  /** JSON text. */
  payload: string;
  createdAtMs: number;
}

export interface OutboxRow extends OutboxEvent {
  seq: number;
}

/** Outbox statements for both dialects. */
export const outboxRepository = {
  /**
   * Adds events inside the caller's transaction (the one that commits their protection records). PostgreSQL:
   * one statement sent with COMMIT (no round trip of its own), values as hex literals so no text can break
   * out of them; SQLite: in-process statements.
   */
  async insert(tx: SqlTx, events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (tx.dialect === "postgres") {
      tx.runAtCommit(
        `INSERT INTO event_outbox (msg_id, subject, payload, created_at_ms)
         SELECT * FROM unnest(${texts(events.map((e) => e.msgId))}, ${texts(events.map((e) => e.subject))},
           ${texts(events.map((e) => e.payload))}, ${bigints(events.map((e) => e.createdAtMs))})`,
      );
      return;
    }
    // one statement per 200 events (4 parameters each, far below SQLite's limit)
    for (let i = 0; i < events.length; i += 200) {
      const part = events.slice(i, i + 200);
      await tx.run(
        `INSERT INTO event_outbox (msg_id, subject, payload, created_at_ms) VALUES ${part
          .map((_, j) => `($${4 * j + 1}, $${4 * j + 2}, $${4 * j + 3}, $${4 * j + 4})`)
          .join(", ")}`,
        part.flatMap((e) => [e.msgId, e.subject, e.payload, e.createdAtMs]),
      );
    }
  },

  /** The oldest `limit` events in seq order. */
  async oldest(tx: SqlTx, limit: number): Promise<OutboxRow[]> {
    const rows = await tx.all<{
      seq: unknown;
      msg_id: string;
      subject: string;
      payload: string;
      created_at_ms: unknown;
    }>("SELECT seq, msg_id, subject, payload, created_at_ms FROM event_outbox ORDER BY seq LIMIT $1", [limit]);
    return rows.map((r) => ({
      seq: Number(r.seq),
      msgId: r.msg_id,
      subject: r.subject,
      payload: r.payload,
      createdAtMs: Number(r.created_at_ms),
    }));
  },

  /** Deletes published events by seq (never "seq <= x": on PostgreSQL a lower seq may commit later). */
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

  /** Events waiting and the creation time of the oldest (cheap: both come from indexes). */
  async backlog(tx: SqlTx): Promise<{ count: number; oldestMs: number | null }> {
    const rows = await tx.all<{ n: unknown; oldest: unknown }>(
      "SELECT count(*) AS n, (SELECT created_at_ms FROM event_outbox ORDER BY seq LIMIT 1) AS oldest FROM event_outbox",
    );
    const r = rows[0];
    return {
      count: Number(r?.n ?? 0),
      oldestMs: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest),
    };
  },
};

/** A text[] literal built from hex (no character of the text appears in the SQL). */
function texts(vs: readonly string[]): string {
  return `ARRAY[${vs.map((v) => `convert_from(decode('${Buffer.from(v, "utf8").toString("hex")}','hex'),'UTF8')`).join(",")}]::text[]`;
}

function bigints(vs: readonly number[]): string {
  return `ARRAY[${vs
    .map((v) => {
      if (!Number.isSafeInteger(v)) throw new TypeError(`not an integer: ${v}`);
      return String(v);
    })
    .join(",")}]::bigint[]`;
}
