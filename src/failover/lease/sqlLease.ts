import type { SqlTx, Store } from "../../store/index.js";
import { type LeaseRow, LockClass, lockKeys, failoverLeaseRepository as repo } from "../../store/index.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";
import {
  type AcquireRequest,
  EMPTY_LEASE,
  type LeaseGrant,
  type LeaseRecord,
  type LeaseStore,
  mayAcquire,
  type ReleaseOptions,
  type RenewResult,
} from "./lease.js";

export interface SqlLeaseOptions {
  /** One lease per validator: hosts of one validator share the name. */
  name: string;
  /** How long a lease released to a named node stays reserved for it. */
  reserveMs: number;
}

/**
 * The lease on the shared store. PostgreSQL: an advisory transaction lock (LockClass.Failover, hash of the
 * name) serialises every change of the row, and the database's clock decides expiry, so hosts with skewed
 * clocks agree. SQLite (one host only; tests and single-machine set-ups): BEGIN IMMEDIATE serialises.
 */
export class SqlLeaseStore implements LeaseStore {
  readonly kind: string;
  private readonly lockId: number;

  constructor(
    private readonly opts: SqlLeaseOptions,
    private readonly store: Store,
  ) {
    this.kind = store.dialect;
    this.lockId = leaseLockId(opts.name);
  }

  read(): Promise<LeaseRecord> {
    return this.store.tx(async (tx) => toRecord(await repo.load(tx, this.opts.name)), { readOnly: true });
  }

  acquire(req: AcquireRequest): Promise<{ grant: LeaseGrant; previous: LeaseRecord }> {
    return this.store.tx(async (tx) => {
      await this.lock(tx);
      const loaded = await repo.load(tx, this.opts.name);
      const previous = toRecord(loaded);
      if (!mayAcquire(previous, req.holder, this.opts.reserveMs)) {
        throw new FailoverError(
          { code: FailoverErrorCode.LeaseHeld, holder: previous.holder ?? "", epoch: previous.epoch },
          `the failover lease is held by ${previous.holder} (epoch ${previous.epoch})`,
        );
      }
      const epoch = previous.epoch + 1n;
      const ok = await repo.grant(tx, this.opts.name, loaded.row === null ? null : loaded.row.epoch, {
        holder: req.holder,
        epoch,
        ttlMs: req.ttlMs,
        stopTimeoutMs: req.stopTimeoutMs,
      });
      if (!ok) throw new Error("failover lease row changed under its lock");
      await repo.recordEpoch(tx, this.opts.name, {
        epoch,
        holder: req.holder,
        previousHolder: previous.holder,
        acquiredAtMs: loaded.nowMs,
        reason: req.reason,
      });
      return { grant: { holder: req.holder, epoch, ttlMs: req.ttlMs }, previous };
    });
  }

  renew(grant: LeaseGrant): Promise<RenewResult> {
    return this.store.tx(async (tx) => {
      await this.lock(tx);
      const ok = await repo.renew(tx, this.opts.name, grant.holder, grant.epoch);
      const { row } = await repo.load(tx, this.opts.name);
      if (!ok || row === null) throw lost(grant, row);
      return { ttlMs: row.ttlMs, handoverTo: row.handoverTo };
    });
  }

  async release(grant: LeaseGrant, opts: ReleaseOptions): Promise<void> {
    await this.store.tx(async (tx) => {
      await this.lock(tx);
      await repo.release(tx, this.opts.name, grant.holder, grant.epoch, opts.holderStopped, opts.handoverTo);
    });
  }

  async requestHandover(to: string): Promise<void> {
    await this.store.tx(async (tx) => {
      await this.lock(tx);
      await repo.requestHandover(tx, this.opts.name, to);
    });
  }

  /** The store is owned by whoever opened it (the CLI closes it). */
  async close(): Promise<void> {}

  private lock(tx: SqlTx): Promise<void> {
    return lockKeys(tx, [{ cls: LockClass.Failover, id: this.lockId }]);
  }
}

function lost(grant: LeaseGrant, row: LeaseRow | null): FailoverError {
  return new FailoverError(
    { code: FailoverErrorCode.LeaseLost, epoch: grant.epoch, holder: row?.holder ?? null },
    `failover lease epoch ${grant.epoch} is no longer held (now ${row?.holder ?? "nobody"} at epoch ${row?.epoch ?? 0n})`,
  );
}

function toRecord({ row, nowMs }: { row: LeaseRow | null; nowMs: number }): LeaseRecord {
  if (row === null) return EMPTY_LEASE;
  const live = !row.released && row.expiresAtMs > nowMs;
  return {
    holder: row.holder,
    epoch: row.epoch,
    live,
    released: row.released,
    holderStopped: row.holderStopped,
    endedAgoMs: live ? null : nowMs - row.expiresAtMs,
    remainingMs: live ? row.expiresAtMs - nowMs : null,
    stopTimeoutMs: row.stopTimeoutMs,
    handoverTo: row.handoverTo,
    acquiredAgoMs: nowMs - row.acquiredAtMs,
  };
}

/** Advisory-lock id of a lease name: FNV-1a, 31 bits (PostgreSQL takes int4 ids). */
export function leaseLockId(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}
