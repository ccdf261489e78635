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
  async loadHostKeys(tx: SqlTx, hostId: number): Promise<Map<string, HostKeyRow>> {
    const rows = await tx.all(
      `SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id WHERE k.host_id = $1`,
      [hostId],
    );
    return new Map(rows.map((r) => [`${String(r.chain)}|${String(r.pubkey)}`, toKey(r)]));
  },

  async upsertHostKey(tx: SqlTx, k: HostKeyRow): Promise<void> {
    await tx.run(
      `INSERT INTO fleet_host_keys (host_id, chain, pubkey, owner_id, key_type, source, present, active, certainty, stale,
         signer_id, facts, first_seen_at, changed_at, active_since, inactive_since)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (host_id, chain, pubkey) DO UPDATE SET key_type = excluded.key_type, source = excluded.source,
         present = excluded.present, active = excluded.active, certainty = excluded.certainty, stale = excluded.stale,
         signer_id = excluded.signer_id, facts = excluded.facts, changed_at = excluded.changed_at,
         active_since = excluded.active_since, inactive_since = excluded.inactive_since`,
      [
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
      ],
    );
  },

  async closeHistory(tx: SqlTx, hostId: number, chain: string, pubkey: string, at: number): Promise<void> {
    await tx.run(
      "UPDATE fleet_key_history SET to_at = $4 WHERE host_id = $1 AND chain = $2 AND pubkey = $3 AND to_at IS NULL",
      [hostId, chain, pubkey, at],
    );
  },

  async openHistory(tx: SqlTx, k: HostKeyRow, hostName: string, at: number, reportId: number): Promise<void> {
    await tx.run(
      `INSERT INTO fleet_key_history (owner_id, host_id, host_name, chain, pubkey, present, active, stale, facts, from_at, report_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [k.ownerId, k.hostId, hostName, k.chain, k.pubkey, k.present, k.active, k.stale, k.facts, at, reportId],
    );
  },

  async insertReport(
    tx: SqlTx,
    r: { hostId: number; tokenId: number; receivedAt: number; observedAt: number; body: string },
  ): Promise<number> {
    const rows = await tx.all<{ id: unknown }>(
      "INSERT INTO fleet_reports (host_id, token_id, received_at, observed_at, body) VALUES ($1, $2, $3, $4, $5) RETURNING id",
      [r.hostId, r.tokenId, r.receivedAt, r.observedAt, r.body],
    );
    return num(rows[0]!.id);
  },

  /** Every host's row for each of the given keys (the inputs of the overlap rule). */
  async loadGroups(tx: SqlTx, refs: readonly KeyRef[]): Promise<Map<string, KeyObservationRow[]>> {
    const out = new Map<string, KeyObservationRow[]>();
    for (const ref of refs) {
      const rows = await tx.all(
        `SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id
         WHERE k.owner_id = $1 AND k.chain = $2 AND k.pubkey = $3 ORDER BY k.host_id`,
        [ref.ownerId, ref.chain, ref.pubkey],
      );
      out.set(groupId(ref), rows.map(toObservation));
    }
    return out;
  },

  /**
   * Rows the full detection pass needs, grouped by key (ordered by owner, chain, key): every active row
   * and every row that turned inactive since `inactiveAfter` (key_moved looks back that far).
   */
  async snapshot(tx: SqlTx, inactiveAfter: number): Promise<KeyObservationRow[]> {
    const rows = await tx.all(
      `SELECT ${KEY_COLS} FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id
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
