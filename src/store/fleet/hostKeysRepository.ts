import { bool, num, numOrNull, textOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

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
  /** History intervals recorded for this key on this host (compaction keeps it under the cap). */
  historyCount: number;
}

/** A key row with its host's name, as detection and the API read it. */
export interface KeyObservationRow extends HostKeyRow {
  hostName: string;
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
  /** States this interval stands for (> 1: merged by compaction). */
  changes: number;
}

const KEY_COLS = `k.host_id, k.chain, k.pubkey, k.owner_id, k.key_type, k.source, k.present, k.active, k.certainty, k.stale,
  k.signer_id, k.facts, k.first_seen_at, k.changed_at, k.active_since, k.inactive_since, k.history_count,
  h.name AS host_name`;

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

  /** How many key rows a host has (present or not): the size of the inventory a report is compared with. */
  async countHostKeys(tx: SqlTx, hostId: number): Promise<number> {
    const rows = await tx.all<{ n: unknown }>("SELECT count(*) AS n FROM fleet_host_keys WHERE host_id = $1", [hostId]);
    return num(rows[0]!.n);
  },

  /**
   * One page of a host's inventory in (chain, pubkey) byte order after `after` (keyset paging over the
   * primary key). Byte order is JavaScript's string order for these ASCII keys, so a caller can merge
   * the page with sorted report keys.
   */
  async loadHostKeysPage(
    tx: SqlTx,
    hostId: number,
    after: { chain: string; pubkey: string } | null,
    limit: number,
  ): Promise<HostKeyRow[]> {
    const c = tx.dialect === "postgres" ? ' COLLATE "C"' : "";
    const rows = await tx.all(
      `SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id
       WHERE k.host_id = $1 AND (k.chain${c}, k.pubkey${c}) > ($2${c}, $3${c})
       ORDER BY k.chain${c}, k.pubkey${c} LIMIT $4`,
      [hostId, after?.chain ?? "", after?.pubkey ?? "", limit],
    );
    return rows.map(toKey);
  },

  /** Writes key rows (one statement on PostgreSQL); each (host, chain, key) at most once. */
  async upsertHostKeys(tx: SqlTx, rows: readonly HostKeyRow[]): Promise<void> {
    if (rows.length === 0) return;
    const cols = `host_id, chain, pubkey, owner_id, key_type, source, present, active, certainty, stale, signer_id, facts,
      first_seen_at, changed_at, active_since, inactive_since, history_count`;
    const conflict = `ON CONFLICT (host_id, chain, pubkey) DO UPDATE SET key_type = excluded.key_type, source = excluded.source,
      present = excluded.present, active = excluded.active, certainty = excluded.certainty, stale = excluded.stale,
      signer_id = excluded.signer_id, facts = excluded.facts, changed_at = excluded.changed_at,
      active_since = excluded.active_since, inactive_since = excluded.inactive_since,
      history_count = excluded.history_count`;
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
      k.historyCount,
    ];
    if (tx.dialect === "postgres") {
      const cs = rows.map(values);
      const col = (i: number) => cs.map((c) => c[i] as string | number | boolean | null);
      await tx.run(
        `INSERT INTO fleet_host_keys (${cols})
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::boolean[],
           $8::boolean[], $9::real[], $10::boolean[], $11::text[], $12::text[], $13::bigint[], $14::bigint[],
           $15::bigint[], $16::bigint[], $17::int[]) ${conflict}`,
        Array.from({ length: 17 }, (_, i) => col(i)),
      );
      return;
    }
    // SQLite: one prepared statement per row is faster than one json_each statement (measured: each
    // of the 17 columns would be extracted from the JSON text again).
    const sql = `INSERT INTO fleet_host_keys (${cols}) VALUES (${Array.from({ length: 17 }, (_, i) => `$${i + 1}`).join(", ")}) ${conflict}`;
    for (const k of rows) await tx.run(sql, values(k));
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
        : await tx.all(
            `${sql} JOIN json_each($1) AS u ON k.owner_id = u.value ->> 0 AND k.chain = u.value ->> 1
               AND k.pubkey = u.value ->> 2 ORDER BY k.host_id`,
            [JSON.stringify(refs.map((r) => [r.ownerId, r.chain, r.pubkey]))],
          );
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
      `SELECT host_id, host_name, chain, pubkey, present, active, stale, facts, from_at, to_at, report_id, changes
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
      changes: num(r.changes),
    }));
  },
};

/** The smallest hex string above every string that starts with `prefix` (null: no bound). */
function prefixUpperBound(prefix: string): string | null {
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
    historyCount: num(r.history_count),
  };
}

function toObservation(r: Record<string, unknown>): KeyObservationRow {
  return { ...toKey(r), hostName: String(r.host_name) };
}
