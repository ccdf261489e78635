import type { SqlTx } from "../types.js";

/** The failover lease row as stored, with the store's clock at the time it was read. */
export interface LeaseRow {
  holder: string;
  epoch: bigint;
  acquiredAtMs: number;
  expiresAtMs: number;
  ttlMs: number;
  stopTimeoutMs: number;
  released: boolean;
  holderStopped: boolean;
  handoverTo: string | null;
}

export interface NewGrant {
  holder: string;
  epoch: bigint;
  ttlMs: number;
  stopTimeoutMs: number;
}

export interface EpochHistoryRow {
  epoch: bigint;
  holder: string;
  previousHolder: string | null;
  acquiredAtMs: number;
  reason: string;
}

/** Milliseconds of the database's clock: every host compares lease times on the one clock. */
function nowMs(tx: SqlTx): string {
  return tx.dialect === "postgres"
    ? "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

const ms = (v: unknown): number => Number(v as bigint | string | number);

/** Statements of the failover lease (store/failover); callers hold the lease's key lock. */
export const failoverLeaseRepository = {
  async load(tx: SqlTx, name: string): Promise<{ row: LeaseRow | null; nowMs: number }> {
    const [r] = await tx.all(
      `SELECT l.holder, l.epoch, l.acquired_at_ms, l.expires_at_ms, l.ttl_ms, l.stop_timeout_ms, l.released,
              l.holder_stopped, l.handover_to, n.now_ms
       FROM (SELECT ${nowMs(tx)} AS now_ms) n LEFT JOIN failover_lease l ON l.name = $1`,
      [name],
    );
    if (r === undefined) throw new Error("clock query returned no row");
    const now = ms(r.now_ms);
    if (r.holder === null || r.holder === undefined) return { row: null, nowMs: now };
    return {
      nowMs: now,
      row: {
        holder: String(r.holder),
        epoch: tx.fromU64(r.epoch),
        acquiredAtMs: ms(r.acquired_at_ms),
        expiresAtMs: ms(r.expires_at_ms),
        ttlMs: ms(r.ttl_ms),
        stopTimeoutMs: ms(r.stop_timeout_ms),
        released: Boolean(r.released),
        holderStopped: Boolean(r.holder_stopped),
        handoverTo: r.handover_to === null || r.handover_to === undefined ? null : String(r.handover_to),
      },
    };
  },

  /** Writes a grant over the row that had `previousEpoch` (null: no row yet). Returns false if the row moved on. */
  async grant(tx: SqlTx, name: string, previousEpoch: bigint | null, g: NewGrant): Promise<boolean> {
    const now = nowMs(tx);
    if (previousEpoch === null) {
      const n = await tx.run(
        `INSERT INTO failover_lease (name, holder, epoch, acquired_at_ms, expires_at_ms, ttl_ms, stop_timeout_ms,
           released, holder_stopped, handover_to)
         VALUES ($1, $2, $3, ${now}, ${now} + CAST($4 AS INTEGER), CAST($4 AS INTEGER), $5, $6, $6, NULL)`,
        [name, g.holder, tx.u64(g.epoch), g.ttlMs, g.stopTimeoutMs, false],
      );
      return n === 1;
    }
    const n = await tx.run(
      `UPDATE failover_lease SET holder = $2, epoch = $3, acquired_at_ms = ${now}, expires_at_ms = ${now} + CAST($4 AS INTEGER),
         ttl_ms = CAST($4 AS INTEGER), stop_timeout_ms = $5, released = $6, holder_stopped = $6, handover_to = NULL
       WHERE name = $1 AND epoch = $7`,
      [name, g.holder, tx.u64(g.epoch), g.ttlMs, g.stopTimeoutMs, false, tx.u64(previousEpoch)],
    );
    return n === 1;
  },

  /** Extends a live lease held at `epoch` by its TTL; false when it is not live any more. */
  async renew(tx: SqlTx, name: string, holder: string, epoch: bigint): Promise<boolean> {
    const now = nowMs(tx);
    const n = await tx.run(
      `UPDATE failover_lease SET expires_at_ms = ${now} + ttl_ms
       WHERE name = $1 AND holder = $2 AND epoch = $3 AND released = $4 AND expires_at_ms > ${now}`,
      [name, holder, tx.u64(epoch), false],
    );
    return n === 1;
  },

  /** Ends the lease held at `epoch` now (an already expired one keeps its expiry time). */
  async release(
    tx: SqlTx,
    name: string,
    holder: string,
    epoch: bigint,
    holderStopped: boolean,
    handoverTo: string | null,
  ): Promise<boolean> {
    const least = tx.dialect === "postgres" ? "LEAST" : "MIN";
    const n = await tx.run(
      `UPDATE failover_lease SET released = $4, holder_stopped = $5, handover_to = $6,
         expires_at_ms = ${least}(expires_at_ms, ${nowMs(tx)})
       WHERE name = $1 AND holder = $2 AND epoch = $3 AND released = $7`,
      [name, holder, tx.u64(epoch), true, holderStopped, handoverTo, false],
    );
    return n === 1;
  },

  /** Names the node a live lease should be handed to; false when no lease is live. */
  async requestHandover(tx: SqlTx, name: string, to: string): Promise<boolean> {
    const n = await tx.run(
      `UPDATE failover_lease SET handover_to = $2 WHERE name = $1 AND released = $3 AND expires_at_ms > ${nowMs(tx)}`,
      [name, to, false],
    );
    return n === 1;
  },

  async recordEpoch(tx: SqlTx, name: string, h: EpochHistoryRow): Promise<void> {
    await tx.run(
      `INSERT INTO failover_epochs (name, epoch, holder, previous_holder, acquired_at_ms, reason)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [name, tx.u64(h.epoch), h.holder, h.previousHolder, h.acquiredAtMs, h.reason],
    );
  },

  /** The most recent grants, newest first. */
  async history(tx: SqlTx, name: string, limit: number): Promise<EpochHistoryRow[]> {
    const rows = await tx.all(
      `SELECT epoch, holder, previous_holder, acquired_at_ms, reason FROM failover_epochs
       WHERE name = $1 ORDER BY epoch DESC LIMIT $2`,
      [name, limit],
    );
    return rows.map((r) => ({
      epoch: tx.fromU64(r.epoch),
      holder: String(r.holder),
      previousHolder: r.previous_holder === null ? null : String(r.previous_holder),
      acquiredAtMs: ms(r.acquired_at_ms),
      reason: String(r.reason),
    }));
  },
};
