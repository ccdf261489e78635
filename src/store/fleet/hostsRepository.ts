import { bool, num, numOrNull, textOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

export interface HostLockRow {
  digest: Uint8Array | null;
  /** When the host's previous report arrived (monitor clock). */
  lastReportAt: number;
}

export interface HostTouch {
  id: number;
  receivedAt: number;
  observedAt: number;
  agentVersion: string;
  intervalMs: number;
  /** New content digest, or null when the report repeated the previous one. */
  digest: Uint8Array | null;
  reports: number;
}

export interface SourceRow {
  source: string;
  chain: string;
  reachable: boolean;
  error: string | null;
  info: string;
  since: number;
}

export interface HostRow {
  id: number;
  ownerId: number;
  ownerName: string;
  name: string;
  agentVersion: string;
  intervalMs: number;
  firstSeenAt: number;
  lastReportAt: number;
  reportsTotal: number;
  keysPresent: number;
  keysActive: number;
}

/** Hosts, their heartbeats and node sources. */
export const hostsRepository = {
  async upsertHost(tx: SqlTx, ownerId: number, name: string, intervalMs: number, now: number): Promise<number> {
    const rows = await tx.all<{ id: unknown }>(
      `INSERT INTO fleet_hosts (owner_id, name, interval_ms, first_seen_at, last_report_at, last_observed_at)
       VALUES ($1, $2, $3, $4, $4, 0)
       ON CONFLICT (owner_id, name) DO UPDATE SET owner_id = excluded.owner_id RETURNING id`,
      [ownerId, name, intervalMs, now],
    );
    return num(rows[0]!.id);
  },

  /** Locks the host rows (PostgreSQL: FOR UPDATE in id order) and reads what a report is compared with. */
  async lockHosts(tx: SqlTx, ids: readonly number[]): Promise<Map<number, HostLockRow>> {
    const out = new Map<number, HostLockRow>();
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    const put = (r: Record<string, unknown>): void => {
      out.set(num(r.id), {
        digest: r.digest === null ? null : new Uint8Array(r.digest as Buffer),
        lastReportAt: num(r.last_report_at),
      });
    };
    if (tx.dialect === "postgres") {
      const rows = await tx.all(
        "SELECT id, digest, last_report_at FROM fleet_hosts WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE",
        [sorted],
      );
      rows.forEach(put);
    } else {
      for (const id of sorted)
        (await tx.all("SELECT id, digest, last_report_at FROM fleet_hosts WHERE id = $1", [id])).forEach(put);
    }
    return out;
  },

  /**
   * PostgreSQL, one statement: moves the heartbeat of every host whose stored digest equals the
   * report's (the row lock it takes re-checks the digest against a concurrent change). Returns those ids.
   */
  async heartbeatIfUnchanged(tx: SqlTx, touches: readonly HostTouch[]): Promise<Set<number>> {
    if (touches.length === 0) return new Set();
    const sorted = [...touches].sort((a, b) => a.id - b.id);
    const rows = await tx.all(
      `UPDATE fleet_hosts h SET last_report_at = u.at, last_observed_at = GREATEST(h.last_observed_at, u.obs),
         agent_version = u.v, interval_ms = u.i, reports_total = h.reports_total + 1
       FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[]) AS u(id, at, obs, v, i, d)
       WHERE h.id = u.id AND h.digest = decode(u.d, 'hex')
       RETURNING h.id`,
      [
        sorted.map((t) => t.id),
        sorted.map((t) => t.receivedAt),
        sorted.map((t) => t.observedAt),
        sorted.map((t) => t.agentVersion),
        sorted.map((t) => t.intervalMs),
        sorted.map((t) => Buffer.from(t.digest!).toString("hex")),
      ],
    );
    return new Set(rows.map((r) => num(r.id)));
  },

  /** Heartbeats of a batch in one statement on PostgreSQL. */
  async touchHosts(tx: SqlTx, touches: readonly HostTouch[]): Promise<void> {
    if (touches.length === 0) return;
    if (tx.dialect === "postgres") {
      await tx.run(
        `UPDATE fleet_hosts h SET last_report_at = u.at, last_observed_at = GREATEST(h.last_observed_at, u.obs),
           agent_version = u.v, interval_ms = u.i, reports_total = h.reports_total + u.n,
           digest = COALESCE(decode(u.d, 'hex'), h.digest)
         FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::int[])
           AS u(id, at, obs, v, i, d, n)
         WHERE h.id = u.id`,
        [
          touches.map((t) => t.id),
          touches.map((t) => t.receivedAt),
          touches.map((t) => t.observedAt),
          touches.map((t) => t.agentVersion),
          touches.map((t) => t.intervalMs),
          touches.map((t) => (t.digest === null ? null : Buffer.from(t.digest).toString("hex"))),
          touches.map((t) => t.reports),
        ],
      );
      return;
    }
    for (const t of touches) {
      await tx.run(
        `UPDATE fleet_hosts SET last_report_at = $2, last_observed_at = max(last_observed_at, $3), agent_version = $4,
           interval_ms = $5, reports_total = reports_total + $7, digest = coalesce($6, digest) WHERE id = $1`,
        [t.id, t.receivedAt, t.observedAt, t.agentVersion, t.intervalMs, t.digest, t.reports],
      );
    }
  },

  /** Sets (or clears: an inventory is being written in slices) the digest of the host's last applied report. */
  async setDigest(tx: SqlTx, id: number, digest: Uint8Array | null): Promise<void> {
    await tx.run("UPDATE fleet_hosts SET digest = $2 WHERE id = $1", [id, digest]);
  },

  /** Reports the host sent so far (-1: the host is gone); a sliced write checks it did not move. */
  async reportsTotal(tx: SqlTx, id: number): Promise<number> {
    const rows = await tx.all("SELECT reports_total FROM fleet_hosts WHERE id = $1", [id]);
    return rows.length === 0 ? -1 : num(rows[0]!.reports_total);
  },

  async loadSources(tx: SqlTx, hostId: number): Promise<Map<string, SourceRow>> {
    const rows = await tx.all(
      "SELECT source, chain, reachable, error, info, since FROM fleet_host_sources WHERE host_id = $1",
      [hostId],
    );
    return new Map(rows.map((r) => [String(r.source), toSource(r)]));
  },

  async upsertSource(tx: SqlTx, hostId: number, s: SourceRow): Promise<void> {
    await tx.run(
      `INSERT INTO fleet_host_sources (host_id, source, chain, reachable, error, info, since) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (host_id, source) DO UPDATE SET chain = excluded.chain, reachable = excluded.reachable,
         error = excluded.error, info = excluded.info, since = excluded.since`,
      [hostId, s.source, s.chain, s.reachable, s.error, s.info, s.since],
    );
  },

  async deleteSource(tx: SqlTx, hostId: number, source: string): Promise<void> {
    await tx.run("DELETE FROM fleet_host_sources WHERE host_id = $1 AND source = $2", [hostId, source]);
  },

  /** Hosts visible to an owner (null: every owner), with key counts. */
  async listHosts(tx: SqlTx, ownerId: number | null, hostId: number | null = null): Promise<HostRow[]> {
    const rows = await tx.all(
      `SELECT h.id, h.owner_id, o.name AS owner_name, h.name, h.agent_version, h.interval_ms, h.first_seen_at,
         h.last_report_at, h.reports_total,
         (SELECT count(*) FROM fleet_host_keys k WHERE k.host_id = h.id AND k.present = $3) AS keys_present,
         (SELECT count(*) FROM fleet_host_keys k WHERE k.host_id = h.id AND k.active = $3) AS keys_active
       FROM fleet_hosts h JOIN fleet_owners o ON o.id = h.owner_id
       WHERE (h.owner_id = $1 OR $1 IS NULL) AND (h.id = $2 OR $2 IS NULL) ORDER BY h.name, h.id`,
      [ownerId, hostId, true],
    );
    return rows.map((r) => ({
      id: num(r.id),
      ownerId: num(r.owner_id),
      ownerName: String(r.owner_name),
      name: String(r.name),
      agentVersion: String(r.agent_version),
      intervalMs: num(r.interval_ms),
      firstSeenAt: num(r.first_seen_at),
      lastReportAt: num(r.last_report_at),
      reportsTotal: num(r.reports_total),
      keysPresent: num(r.keys_present),
      keysActive: num(r.keys_active),
    }));
  },

  async findHost(
    tx: SqlTx,
    ownerId: number | null,
    ref: string,
  ): Promise<{ id: number; ownerId: number; name: string } | null> {
    const byId = /^[0-9]{1,9}$/.test(ref) ? Number(ref) : -1;
    const rows = await tx.all(
      `SELECT id, owner_id, name FROM fleet_hosts WHERE (owner_id = $1 OR $1 IS NULL) AND (id = $2 OR name = $3)
       ORDER BY id LIMIT 2`,
      [ownerId, byId, ref],
    );
    if (rows.length !== 1) return null; // a name shared by two owners needs the id
    return { id: num(rows[0]!.id), ownerId: num(rows[0]!.owner_id), name: String(rows[0]!.name) };
  },

  async sourcesOf(tx: SqlTx, hostIds: readonly number[]): Promise<Map<number, SourceRow[]>> {
    const out = new Map<number, SourceRow[]>();
    const cols = "SELECT host_id, source, chain, reachable, error, info, since FROM fleet_host_sources";
    const rows =
      tx.dialect === "postgres"
        ? await tx.all(`${cols} WHERE host_id = ANY($1::int[])`, [[...hostIds]])
        : (await Promise.all(hostIds.map((id) => tx.all(`${cols} WHERE host_id = $1`, [id])))).flat();
    for (const r of rows) {
      const id = num(r.host_id);
      const list = out.get(id) ?? [];
      list.push(toSource(r));
      out.set(id, list);
    }
    return out;
  },

  /** Forgets a host and its inventory (its history stays). */
  async deleteHost(tx: SqlTx, id: number, now: number): Promise<void> {
    await tx.run("DELETE FROM fleet_maintenance WHERE host_id = $1", [id]);
    await tx.run("DELETE FROM fleet_host_sources WHERE host_id = $1", [id]);
    await tx.run("DELETE FROM fleet_host_keys WHERE host_id = $1", [id]);
    await tx.run("UPDATE fleet_key_history SET to_at = coalesce(to_at, $2) WHERE host_id = $1", [id, now]);
    await tx.run("DELETE FROM fleet_hosts WHERE id = $1", [id]);
  },
};

function toSource(r: Record<string, unknown>): SourceRow {
  return {
    source: String(r.source),
    chain: String(r.chain),
    reachable: bool(r.reachable),
    error: textOrNull(r.error),
    info: String(r.info),
    since: numOrNull(r.since) ?? 0,
  };
}
