import type { SqlTx } from "../types.js";
import { bool, num, numOrNull, textOrNull } from "./sqlValues.js";

/** The current state of one key on one host. */
export interface HostKeyRow {
  hostId: number;
  chain: string;
  pubkey: string;
  ownerId: number;
  keyType: string;
  source: string;
  present: boolean;
  active: boolean;
  certainty: number;
  stale: boolean;
  signerId: string | null;
  facts: string;
  firstSeenAt: number;
  changedAt: number;
  activeSince: number | null;
  inactiveSince: number | null;
}

/** A key row with its host's name, as detection and the API read it. */
export interface KeyObservationRow extends HostKeyRow {
  hostName: string;
}

export interface NewHistory {
  row: HostKeyRow;
  hostName: string;
  fromAt: number;
  toAt: number | null;
  reportId: number;
}

export interface KeyRef {
  ownerId: number;
  chain: string;
  pubkey: string;
}

export interface KeyListFilter {
  ownerId: number | null;
  chain?: string;
  hostId?: number;
  active?: boolean;
  /** Lower-case 0x-hex prefix of the public key. */
  prefix?: string;
  /** Keyset cursor: rows after (pubkey, host id). */
  after?: { pubkey: string; hostId: number };
  limit: number;
}

export interface HistoryRow {
  hostId: number;
  hostName: string;
  chain: string;
  pubkey: string;
  present: boolean;
  active: boolean;
  stale: boolean;
  facts: string;
  fromAt: number;
  toAt: number | null;
  reportId: number | null;
}

const KEY_COLS = `k.host_id, k.chain, k.pubkey, k.owner_id, k.key_type, k.source, k.present, k.active, k.certainty, k.stale,
  k.signer_id, k.facts, k.first_seen_at, k.changed_at, k.active_since, k.inactive_since, h.name AS host_name`;

/** Inventories (current key state per host), their history intervals and stored reports. */
export const hostKeysRepository = {
  /** The inventories of several hosts: host id → (chain|pubkey → row). */
  async loadHostKeys(tx: SqlTx, hostIds: readonly number[]): Promise<Map<number, Map<string, HostKeyRow>>> {
    const out = new Map<number, Map<string, HostKeyRow>>(hostIds.map((id) => [id, new Map()]));
    const sql = `SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id`;
    const rows =
      tx.dialect === "postgres"
        ? await tx.all(`${sql} WHERE k.host_id = ANY($1::int[])`, [[...hostIds]])
        : (await Promise.all(hostIds.map((id) => tx.all(`${sql} WHERE k.host_id = $1`, [id])))).flat();
    for (const r of rows) {
      const k = toKey(r);
      out.get(k.hostId)?.set(`${k.chain}|${k.pubkey}`, k);
    }
    return out;
  },

  /** Writes key rows (one statement on PostgreSQL); each (host, chain, key) at most once. */
  async upsertHostKeys(tx: SqlTx, rows: readonly HostKeyRow[]): Promise<void> {
    if (rows.length === 0) return;
    const cols = `host_id, chain, pubkey, owner_id, key_type, source, present, active, certainty, stale, signer_id, facts,
      first_seen_at, changed_at, active_since, inactive_since`;
    const conflict = `ON CONFLICT (host_id, chain, pubkey) DO UPDATE SET key_type = excluded.key_type, source = excluded.source,
      present = excluded.present, active = excluded.active, certainty = excluded.certainty, stale = excluded.stale,
      signer_id = excluded.signer_id, facts = excluded.facts, changed_at = excluded.changed_at,
      active_since = excluded.active_since, inactive_since = excluded.inactive_since`;
    const values = (k: HostKeyRow) => [
      k.hostId,
      k.chain,
      k.pubkey,
      k.ownerId,
      k.keyType,
      k.source,
      k.present,
      k.active,
      k.certainty,
      k.stale,
      k.signerId,
      k.facts,
      k.firstSeenAt,
      k.changedAt,
      k.activeSince,
      k.inactiveSince,
    ];
    if (tx.dialect === "postgres") {
      const cs = rows.map(values);
      const col = (i: number) => cs.map((c) => c[i] as string | number | boolean | null);
      await tx.run(
        `INSERT INTO fleet_host_keys (${cols})
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::boolean[],
           $8::boolean[], $9::real[], $10::boolean[], $11::text[], $12::text[], $13::bigint[], $14::bigint[],
           $15::bigint[], $16::bigint[]) ${conflict}`,
        Array.from({ length: 16 }, (_, i) => col(i)),
      );
      return;
    }
    for (const k of rows) {
      await tx.run(
        `INSERT INTO fleet_host_keys (${cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ${conflict}`,
        values(k),
      );
    }
  },

  /** Closes the open history interval of each key at its time. */
  async closeHistory(
    tx: SqlTx,
    refs: readonly { hostId: number; chain: string; pubkey: string; at: number }[],
  ): Promise<void> {
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
    const cols =
      "owner_id, host_id, host_name, chain, pubkey, present, active, stale, facts, from_at, to_at, report_id";
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
        `INSERT INTO fleet_key_history (${cols})
         SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::boolean[],
           $8::boolean[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[])`,
        Array.from({ length: 12 }, (_, i) => cs.map((c) => c[i] as string | number | boolean | null)),
      );
      return;
    }
    for (const h of rows) {
      await tx.run(
        `INSERT INTO fleet_key_history (${cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        values(h),
      );
    }
  },

  /** Stores reports; returns their ids in the same order. */
  async insertReports(
    tx: SqlTx,
    reports: readonly { hostId: number; tokenId: number; receivedAt: number; observedAt: number; body: string }[],
  ): Promise<number[]> {
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

  /** Every host's row for each of the given keys (the inputs of the overlap rule). */
  async loadGroups(tx: SqlTx, refs: readonly KeyRef[]): Promise<Map<string, KeyObservationRow[]>> {
    const out = new Map<string, KeyObservationRow[]>(refs.map((r) => [groupId(r), []]));
    const sql = `SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id`;
    const rows =
      tx.dialect === "postgres"
        ? await tx.all(
            `${sql} JOIN unnest($1::int[], $2::text[], $3::text[]) AS u(owner_id, chain, pubkey)
               ON k.owner_id = u.owner_id AND k.chain = u.chain AND k.pubkey = u.pubkey ORDER BY k.host_id`,
            [refs.map((r) => r.ownerId), refs.map((r) => r.chain), refs.map((r) => r.pubkey)],
          )
        : (
            await Promise.all(
              refs.map((r) =>
                tx.all(`${sql} WHERE k.owner_id = $1 AND k.chain = $2 AND k.pubkey = $3 ORDER BY k.host_id`, [
                  r.ownerId,
                  r.chain,
                  r.pubkey,
                ]),
              ),
            )
          ).flat();
    for (const r of rows) {
      const o = toObservation(r);
      out.get(groupId(o))?.push(o);
    }
    return out;
  },

  /**
   * Rows the full detection pass needs, grouped by key (ordered by owner, chain, key): every active row
   * and every row that turned inactive since `inactiveAfter` (key_moved looks back that far), of the
   * keys with two such rows or more. A key seen on one host alone can neither overlap nor have moved,
   * so the store leaves it out (most keys of a fleet).
   */
  async snapshot(tx: SqlTx, inactiveAfter: number): Promise<KeyObservationRow[]> {
    const rows = await tx.all(
      `WITH multi AS (
         SELECT owner_id, chain, pubkey FROM fleet_host_keys WHERE active = $1 OR inactive_since >= $2
         GROUP BY owner_id, chain, pubkey HAVING count(*) >= 2)
       SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id
         JOIN multi m ON m.owner_id = k.owner_id AND m.chain = k.chain AND m.pubkey = k.pubkey
       WHERE k.active = $1 OR k.inactive_since >= $2 ORDER BY k.owner_id, k.chain, k.pubkey, k.host_id`,
      [true, inactiveAfter],
    );
    return rows.map(toObservation);
  },

  async listKeys(tx: SqlTx, f: KeyListFilter): Promise<KeyObservationRow[]> {
    const hi = f.prefix === undefined ? null : prefixUpperBound(f.prefix);
    const rows = await tx.all(
      `SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id
       WHERE (k.owner_id = $1 OR $1 IS NULL) AND (k.chain = $2 OR $2 IS NULL) AND (k.host_id = $3 OR $3 IS NULL)
         AND (k.active = $4 OR $4 IS NULL) AND (k.pubkey >= $5 OR $5 IS NULL) AND (k.pubkey < $6 OR $6 IS NULL)
         AND (k.pubkey > $7 OR (k.pubkey = $7 AND k.host_id > $8) OR $7 IS NULL) AND k.present = $10
       ORDER BY k.pubkey, k.host_id LIMIT $9`,
      [
        f.ownerId,
        f.chain ?? null,
        f.hostId ?? null,
        f.active ?? null,
        f.prefix ?? null,
        hi,
        f.after?.pubkey ?? null,
        f.after?.hostId ?? 0,
        f.limit,
        true,
      ],
    );
    return rows.map(toObservation);
  },

  async history(tx: SqlTx, ownerId: number | null, pubkey: string, from: number, to: number): Promise<HistoryRow[]> {
    const rows = await tx.all(
      `SELECT host_id, host_name, chain, pubkey, present, active, stale, facts, from_at, to_at, report_id
       FROM fleet_key_history WHERE (owner_id = $1 OR $1 IS NULL) AND pubkey = $2 AND from_at <= $4
         AND (to_at IS NULL OR to_at >= $3)
       ORDER BY from_at, id`,
      [ownerId, pubkey, from, to],
    );
    return rows.map((r) => ({
      hostId: num(r.host_id),
      hostName: String(r.host_name),
      chain: String(r.chain),
      pubkey: String(r.pubkey),
      present: bool(r.present),
      active: bool(r.active),
      stale: bool(r.stale),
      facts: String(r.facts),
      fromAt: num(r.from_at),
      toAt: numOrNull(r.to_at),
      reportId: numOrNull(r.report_id),
    }));
  },
};

/** The smallest hex string above every string that starts with `prefix` (null: no bound). */
export function prefixUpperBound(prefix: string): string | null {
  const body = prefix.replace(/f+$/, "");
  if (body.length <= 2) return null;
  const last = body[body.length - 1]!;
  return body.slice(0, -1) + (last === "9" ? "a" : String.fromCharCode(last.charCodeAt(0) + 1));
}

export function groupId(ref: KeyRef): string {
  return `${ref.ownerId}|${ref.chain}|${ref.pubkey}`;
}

function toKey(r: Record<string, unknown>): HostKeyRow {
  return {
    hostId: num(r.host_id),
    chain: String(r.chain),
    pubkey: String(r.pubkey),
    ownerId: num(r.owner_id),
    keyType: String(r.key_type),
    source: String(r.source),
    present: bool(r.present),
    active: bool(r.active),
    certainty: Number(r.certainty),
    stale: bool(r.stale),
    signerId: textOrNull(r.signer_id),
    facts: String(r.facts),
    firstSeenAt: num(r.first_seen_at),
    changedAt: num(r.changed_at),
    activeSince: numOrNull(r.active_since),
    inactiveSince: numOrNull(r.inactive_since),
  };
}

function toObservation(r: Record<string, unknown>): KeyObservationRow {
  return { ...toKey(r), hostName: String(r.host_name) };
}
