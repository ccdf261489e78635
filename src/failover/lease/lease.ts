/**
 * The failover lease: at most one holder at a time, with a fencing epoch that only grows. Every grant
 * (including a re-grant to the same holder) takes a new epoch; renewals and releases name the epoch they
 * hold, so a holder that was replaced can never extend or release its successor's lease.
 */
export interface LeaseStore {
  /** "postgres", "sqlite" or "etcd" (for /status and logs). */
  readonly kind: string;
  read(): Promise<LeaseRecord>;
  /**
   * Takes the lease with a new epoch when it is free: never granted, released, expired, or already held by
   * `holder` itself. Throws ERR_FAILOVER_LEASE_HELD otherwise. Returns the record as it was before.
   */
  acquire(req: AcquireRequest): Promise<{ grant: LeaseGrant; previous: LeaseRecord }>;
  /** Extends the lease by its TTL; throws ERR_FAILOVER_LEASE_LOST when the epoch is no longer live. */
  renew(grant: LeaseGrant): Promise<RenewResult>;
  /** Ends the lease (no-op if it is already lost), telling the next holder whether our node is stopped. */
  release(grant: LeaseGrant, opts: ReleaseOptions): Promise<void>;
  /** Asks the live holder to hand over to `to` (failback); the holder sees it on its next renewal. */
  requestHandover(to: string): Promise<void>;
  close(): Promise<void>;
}

export interface AcquireRequest {
  holder: string;
  ttlMs: number;
  /**
   * How long after losing the lease this holder's node may still run (its stop timeout). A successor that
   * cannot hear from the holder waits this long past expiry before it counts the node as stopped.
   */
  stopTimeoutMs: number;
  /** Why the lease is taken (kept in the epoch history). */
  reason: string;
}

export interface LeaseGrant {
  holder: string;
  epoch: bigint;
  ttlMs: number;
  /** Store-specific handle (the etcd lease id). */
  token?: string;
}

export interface RenewResult {
  /** TTL the store granted from this renewal (etcd may grant more than asked). */
  ttlMs: number;
  /** A node that asked for the lease (failback), or null. */
  handoverTo: string | null;
}

export interface ReleaseOptions {
  /** Our node is confirmed stopped (or runs without the validator key). */
  holderStopped: boolean;
  /** Node the lease is reserved for (a handover), or null for whoever is ready. */
  handoverTo: string | null;
}

export interface LeaseRecord {
  /** Last holder, kept after release or expiry; null if never granted. */
  holder: string | null;
  /** 0 when never granted. */
  epoch: bigint;
  /** Held, not released and not expired. */
  live: boolean;
  released: boolean;
  /** The holder said at release that its node is stopped. */
  holderStopped: boolean;
  /** How long ago the lease ended (by the store's clock, or the first time this process saw it gone); null while live. */
  endedAgoMs: number | null;
  /** Remaining lifetime while live. */
  remainingMs: number | null;
  /** The holder's stop timeout (see AcquireRequest). */
  stopTimeoutMs: number;
  handoverTo: string | null;
  /** How long ago the current epoch was granted (drives the handover window); null if never granted. */
  acquiredAgoMs: number | null;
}

export const EMPTY_LEASE: LeaseRecord = {
  holder: null,
  epoch: 0n,
  live: false,
  released: false,
  holderStopped: false,
  endedAgoMs: null,
  remainingMs: null,
  stopTimeoutMs: 0,
  handoverTo: null,
  acquiredAgoMs: null,
};

/**
 * Whether `holder` may take the lease now. A released lease that names a handover target stays reserved
 * for it during `reserveMs`, so a third node does not snatch a failback.
 */
export function mayAcquire(rec: LeaseRecord, holder: string, reserveMs: number): boolean {
  if (rec.epoch === 0n) return true;
  if (rec.released && rec.handoverTo !== null && rec.handoverTo !== holder) {
    // reserved for the target, also against the node that just handed over
    return rec.endedAgoMs !== null && rec.endedAgoMs >= reserveMs;
  }
  return rec.holder === holder || !rec.live;
}
