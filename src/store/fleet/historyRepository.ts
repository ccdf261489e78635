import { bool, num, numOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";
import type { HostKeyRow } from "./hostKeysRepository.js";

export interface NewHistory {
  row: HostKeyRow;
  hostName: string;
  fromAt: number;
  toAt: number | null;
  reportId: number;
}

export interface HistoryClose {
  hostId: number;
  chain: string;
  pubkey: string;
  at: number;
}

export interface HistoryKey {
  ownerId: number;
  hostId: number;
  chain: string;
  pubkey: string;
}

export interface NewReport {
  hostId: number;
  tokenId: number;
  receivedAt: number;
  observedAt: number;
  body: string;
}

const HISTORY_COLS =
  "owner_id, host_id, host_name, chain, pubkey, present, active, stale, facts, from_at, to_at, report_id";

/**
 * The write side of key history and stored reports: intervals opened and closed by ingestion, merged
 * past a cap per key (compaction), deleted past the retention, and report bodies kept per host.
 * PostgreSQL takes a batch in one statement (unnest); SQLite runs one prepared statement per row.
 */
export const historyRepository = {
  /** Closes the open history interval of each key at its time. */
  async closeHistory(tx: SqlTx, refs: readonly HistoryClose[]): Promise<void> {
    if (refs.length === 0) return;
    if (tx.dialect === "postgres") {
      await tx.run(
        `UPDATE fleet_key_history h SET to_at = u.at
         FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[]) AS u(host_id, chain, pubkey, at)
         WHERE h.host_id = u.host_id AND h.chain = u.chain AND h.pubkey = u.pubkey AND h.to_at IS NULL`,
        [refs.map((r) => r.hostId), refs.map((r) => r.chain), refs.map((r) => r.pubkey), refs.map((r) => r.at)],
      );
      return;
    }
    for (const r of refs) {
      await tx.run(
        "UPDATE fleet_key_history SET to_at = $4 WHERE host_id = $1 AND chain = $2 AND pubkey = $3 AND to_at IS NULL",
        [r.hostId, r.chain, r.pubkey, r.at],
      );
    }
  },

  /** Inserts history intervals (to_at null: the interval is still open). */
  async insertHistory(tx: SqlTx, rows: readonly NewHistory[]): Promise<void> {
    if (rows.length === 0) return;
    const values = (h: NewHistory) => [
      h.row.ownerId,
      h.row.hostId,
      h.hostName,
      h.row.chain,
      h.row.pubkey,
      h.row.present,
      h.row.active,
      h.row.stale,
      h.row.facts,
      h.fromAt,
      h.toAt,
      h.reportId,
    ];
    if (tx.dialect === "postgres") {
      const cs = rows.map(values);
      await tx.run(
        `INSERT INTO fleet_key_history (${HISTORY_COLS})
         SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::boolean[],
           $8::boolean[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[])`,
        Array.from({ length: 12 }, (_, i) => cs.map((c) => c[i] as string | number | boolean | null)),
      );
      return;
    }
    const sql = `INSERT INTO fleet_key_history (${HISTORY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;
    for (const h of rows) await tx.run(sql, values(h));
  },

  /**
   * Merges the oldest closed intervals of each key on its host so that at most `keep` remain. The merged
   * interval spans them all and is present/active/stale if any of them was (an operator reading it
   * learns "at some point in this span", never less than happened); `changes` counts the states.
   * Returns the number of intervals each key has afterwards (by `groupKey`).
   */
  async compact(tx: SqlTx, keys: readonly HistoryKey[], keep: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const k of keys) {
      const rows = await tx.all(
        `SELECT id, present, active, stale, facts, from_at, to_at, report_id, changes FROM fleet_key_history
         WHERE owner_id = $1 AND pubkey = $2 AND host_id = $3 AND chain = $4 ORDER BY from_at, id`,
        [k.ownerId, k.pubkey, k.hostId, k.chain],
      );
      const closed = rows.filter((r) => r.to_at !== null);
      const merge = closed.slice(0, Math.max(0, rows.length - keep + 1));
      if (merge.length < 2) {
        out.set(historyKeyId(k), rows.length);
        continue;
      }
      const first = merge[0]!;
      const last = merge[merge.length - 1]!;
      await tx.run(
        `UPDATE fleet_key_history SET present = $2, active = $3, stale = $4, facts = $5, to_at = $6, report_id = $7,
           changes = $8 WHERE id = $1`,
        [
          num(first.id),
          merge.some((r) => bool(r.present)),
          merge.some((r) => bool(r.active)),
          merge.some((r) => bool(r.stale)),
          String(last.facts),
          num(last.to_at),
          numOrNull(last.report_id),
          merge.reduce((n, r) => n + num(r.changes), 0),
        ],
      );
      const gone = merge.slice(1).map((r) => num(r.id));
      if (tx.dialect === "postgres") await tx.run("DELETE FROM fleet_key_history WHERE id = ANY($1::bigint[])", [gone]);
      else
        await tx.run("DELETE FROM fleet_key_history WHERE id IN (SELECT value FROM json_each($1))", [
          JSON.stringify(gone),
        ]);
      out.set(historyKeyId(k), rows.length - gone.length);
    }
    return out;
  },

  /** Retention: deletes up to `limit` intervals closed before `before`; returns how many went. */
  async deleteClosedBefore(tx: SqlTx, before: number, limit: number): Promise<number> {
    return tx.run(
      `DELETE FROM fleet_key_history WHERE id IN (
         SELECT id FROM fleet_key_history WHERE to_at IS NOT NULL AND to_at < $1 ORDER BY to_at LIMIT $2)`,
      [before, limit],
    );
  },

  /** Retention: forgets up to `limit` keys that left their host before `before` (their rows only served key_moved). */
  async deleteGoneKeysBefore(tx: SqlTx, before: number, limit: number): Promise<number> {
    const where = "present = $3 AND changed_at < $1";
    return tx.dialect === "postgres"
      ? tx.run(
          `DELETE FROM fleet_host_keys WHERE (host_id, chain, pubkey) IN (
             SELECT host_id, chain, pubkey FROM fleet_host_keys WHERE ${where} LIMIT $2)`,
          [before, limit, false],
        )
      : tx.run(
          `DELETE FROM fleet_host_keys WHERE rowid IN (SELECT rowid FROM fleet_host_keys WHERE ${where} LIMIT $2)`,
          [before, limit, false],
        );
  },

  /** Stores reports; returns their ids in the same order. */
  async insertReports(tx: SqlTx, reports: readonly NewReport[]): Promise<number[]> {
    if (reports.length === 0) return [];
    if (tx.dialect === "postgres") {
      // Ids first, so each report keeps its own whatever order the insert runs in.
      const ids = (
        await tx.all<{ id: unknown }>("SELECT nextval('fleet_reports_id_seq') AS id FROM generate_series(1, $1)", [
          reports.length,
        ])
      ).map((r) => num(r.id));
      await tx.run(
        `INSERT INTO fleet_reports (id, host_id, token_id, received_at, observed_at, body)
         SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::bigint[], $5::bigint[], $6::text[])`,
        [
          ids,
          reports.map((r) => r.hostId),
          reports.map((r) => r.tokenId),
          reports.map((r) => r.receivedAt),
          reports.map((r) => r.observedAt),
          reports.map((r) => r.body),
        ],
      );
      return ids;
    }
    const ids: number[] = [];
    for (const r of reports) {
      const rows = await tx.all<{ id: unknown }>(
        "INSERT INTO fleet_reports (host_id, token_id, received_at, observed_at, body) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        [r.hostId, r.tokenId, r.receivedAt, r.observedAt, r.body],
      );
      ids.push(num(rows[0]!.id));
    }
    return ids;
  },

  /** Keeps the bodies of the newest `keep` reports of each host (history keeps their ids). */
  async pruneReports(tx: SqlTx, hostIds: readonly number[], keep: number): Promise<void> {
    for (const id of new Set(hostIds)) {
      await tx.run(
        `DELETE FROM fleet_reports WHERE host_id = $1 AND id < (
           SELECT id FROM fleet_reports WHERE host_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
        [id, Math.max(0, keep - 1)],
      );
    }
  },
};

export function historyKeyId(k: { hostId: number; chain: string; pubkey: string }): string {
  return `${k.hostId}|${k.chain}|${k.pubkey}`;
}
