import type { Etcd3, IKeyValue, IRequestOp } from "etcd3";
import { errorMessage } from "../../util/errors.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";
import { type Monotonic, monotonic } from "../monotonic.js";
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

export interface EtcdLeaseOptions {
  name: string;
  /** http://host:2379 of every member; the client moves to another member when one fails. */
  endpoints: string[];
  reserveMs: number;
  /** Deadline of each call (a renewal never waits longer than this). */
  callTimeoutMs: number;
  prefix?: string;
}

/** What `<prefix><name>/record` holds. It has no etcd lease, so it outlives the holder (epochs only grow). */
interface RecordV1 {
  holder: string;
  epoch: string;
  leaseId: string;
  ttlMs: number;
  stopTimeoutMs: number;
  released: boolean;
  holderStopped: boolean;
  handoverTo: string | null;
  /** Wall clocks of the writers: only the handover window uses them (acquiredAtMs), never safety. */
  acquiredAtMs: number;
  endedAtMs: number | null;
}

interface Snapshot {
  record: RecordV1 | null;
  recordRev: string;
  aliveRev: string;
  /** Epoch the `alive` key names (it is attached to the etcd lease, so it vanishes when the lease expires). */
  aliveEpoch: bigint | null;
}

/**
 * The lease on etcd v3 (a majority-quorum store: run three members or more). The `alive` key carries an
 * etcd lease with the TTL; the `record` key keeps the epoch and the holder's last word. Every change is a
 * transaction that compares the revisions it read, so two acquirers cannot both win.
 */
export class EtcdLeaseStore implements LeaseStore {
  readonly kind = "etcd";
  /** Per ended epoch, when this process first saw it gone (etcd does not say when a lease expired). */
  private readonly goneSince = new Map<string, number>();
  private readonly recordKey: Buffer;
  private readonly aliveKey: Buffer;

  private constructor(
    private readonly opts: EtcdLeaseOptions,
    private readonly client: Etcd3,
    private readonly clock: Monotonic = monotonic,
  ) {
    const prefix = opts.prefix ?? "/slashguard/failover/";
    this.recordKey = Buffer.from(`${prefix}${opts.name}/record`);
    this.aliveKey = Buffer.from(`${prefix}${opts.name}/alive`);
  }

  static async open(opts: EtcdLeaseOptions): Promise<EtcdLeaseStore> {
    // Loaded on demand: the gRPC stack is only needed when etcd is the lease store.
    const { Etcd3 } = await import("etcd3");
    const client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: opts.callTimeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opts.callTimeoutMs }),
    });
    return new EtcdLeaseStore(opts, client);
  }

  async read(): Promise<LeaseRecord> {
    return this.toRecord(await this.snapshot());
  }

  async acquire(req: AcquireRequest): Promise<{ grant: LeaseGrant; previous: LeaseRecord }> {
    const snap = await this.snapshot();
    const previous = this.toRecord(snap);
    if (!mayAcquire(previous, req.holder, this.opts.reserveMs)) throw held(previous);
    const granted = await this.call(() => this.client.leaseClient.leaseGrant({ TTL: Math.ceil(req.ttlMs / 1000) }));
    const epoch = previous.epoch + 1n;
    const record: RecordV1 = {
      holder: req.holder,
      epoch: epoch.toString(),
      leaseId: granted.ID,
      ttlMs: Number(granted.TTL) * 1000,
      stopTimeoutMs: req.stopTimeoutMs,
      released: false,
      holderStopped: false,
      handoverTo: null,
      acquiredAtMs: Date.now(),
      endedAtMs: null,
    };
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [
          { key: this.recordKey, target: "Mod", result: "Equal", mod_revision: snap.recordRev },
          { key: this.aliveKey, target: "Mod", result: "Equal", mod_revision: snap.aliveRev },
        ],
        success: [
          this.putRecord(record),
          { request_put: { key: this.aliveKey, value: Buffer.from(record.epoch), lease: granted.ID } },
        ],
      }),
    );
    if (!res.succeeded) {
      await this.revoke(granted.ID);
      throw held(this.toRecord(await this.snapshot()));
    }
    if (snap.record !== null && snap.record.holder === req.holder) await this.revoke(snap.record.leaseId);
    return { grant: { holder: req.holder, epoch, ttlMs: record.ttlMs, token: granted.ID }, previous };
  }

  async renew(grant: LeaseGrant): Promise<RenewResult> {
    const ttl = await this.keepAliveOnce(grant.token ?? "0");
    const snap = await this.snapshot();
    if (ttl <= 0 || snap.record === null || snap.record.epoch !== grant.epoch.toString() || snap.record.released) {
      throw new FailoverError(
        { code: FailoverErrorCode.LeaseLost, epoch: grant.epoch, holder: snap.record?.holder ?? null },
        `failover lease epoch ${grant.epoch} is no longer held`,
      );
    }
    return { ttlMs: ttl * 1000, handoverTo: snap.record.handoverTo };
  }

  async release(grant: LeaseGrant, opts: ReleaseOptions): Promise<void> {
    const snap = await this.snapshot();
    const r = snap.record;
    if (r === null || r.epoch !== grant.epoch.toString() || r.released) return;
    const record: RecordV1 = { ...r, released: true, ...opts, endedAtMs: Date.now() };
    await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: this.recordKey, target: "Mod", result: "Equal", mod_revision: snap.recordRev }],
        success: [this.putRecord(record), { request_delete_range: { key: this.aliveKey } }],
      }),
    );
    await this.revoke(r.leaseId);
  }

  async requestHandover(to: string): Promise<void> {
    const snap = await this.snapshot();
    if (snap.record === null || !this.toRecord(snap).live) return;
    await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: this.recordKey, target: "Mod", result: "Equal", mod_revision: snap.recordRev }],
        success: [this.putRecord({ ...(snap.record as RecordV1), handoverTo: to })],
      }),
    );
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** Both keys read in one transaction: a consistent (linearizable) view. */
  private async snapshot(): Promise<Snapshot> {
    const res = await this.call(() =>
      this.client.kv.txn({
        success: [{ request_range: { key: this.recordKey } }, { request_range: { key: this.aliveKey } }],
      }),
    );
    const rec = res.responses[0]?.response_range.kvs[0];
    const alive = res.responses[1]?.response_range.kvs[0];
    return {
      record: rec === undefined ? null : parseRecord(rec),
      recordRev: rec?.mod_revision ?? "0",
      aliveRev: alive?.mod_revision ?? "0",
      aliveEpoch: alive === undefined ? null : parseEpoch(alive.value.toString()),
    };
  }

  private toRecord(snap: Snapshot): LeaseRecord {
    const r = snap.record;
    if (r === null) return EMPTY_LEASE;
    const epoch = BigInt(r.epoch);
    const live = !r.released && snap.aliveEpoch === epoch;
    let endedAgoMs: number | null = null;
    if (!live) {
      // Released or expired alike: measured on this host's monotonic clock from when this process first
      // saw it ended, never from the releasing host's wall clock (endedAtMs), which may be off by any amount.
      const now = this.clock.now();
      const first = this.goneSince.get(r.epoch) ?? now;
      if (!this.goneSince.has(r.epoch)) {
        this.goneSince.clear(); // only the latest ended epoch matters
        this.goneSince.set(r.epoch, first);
      }
      endedAgoMs = now - first;
    }
    return {
      holder: r.holder,
      epoch,
      live,
      released: r.released,
      holderStopped: r.holderStopped,
      endedAgoMs,
      remainingMs: null,
      stopTimeoutMs: r.stopTimeoutMs,
      handoverTo: r.handoverTo,
      acquiredAgoMs: Math.max(0, Date.now() - r.acquiredAtMs),
    };
  }

  private putRecord(r: RecordV1): IRequestOp {
    return { request_put: { key: this.recordKey, value: Buffer.from(JSON.stringify(r)) } };
  }

  /**
   * One keep-alive round trip on the lease stream; the TTL etcd granted, 0 when the lease is gone. Streams
   * do not get the client's retry on another member, so a failed attempt is retried (a random member
   * each time) while the call's time lasts.
   */
  private async keepAliveOnce(id: string): Promise<number> {
    const deadline = Date.now() + this.opts.callTimeoutMs;
    let last: unknown;
    for (let attempt = 0; attempt < this.opts.endpoints.length + 1 && Date.now() < deadline; attempt++) {
      try {
        return await this.keepAliveAttempt(id, deadline);
      } catch (e) {
        last = e;
      }
    }
    throw unavailable(last ?? new Error("keep-alive timed out"));
  }

  private async keepAliveAttempt(id: string, deadline: number): Promise<number> {
    const stream = await this.client.leaseClient.leaseKeepAlive({ deadline });
    try {
      const res = await new Promise<{ TTL: string }>((resolve, reject) => {
        stream.on("data", resolve);
        stream.on("error", reject);
        stream.on("end", () => reject(new Error("keep-alive stream ended")));
        stream.write({ ID: id });
      });
      return Number(res.TTL);
    } finally {
      stream.cancel();
    }
  }

  private async revoke(id: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: id });
    } catch {
      // an unrevoked lease only expires later on its own; nothing depends on it any more
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw unavailable(e);
    }
  }
}

function unavailable(e: unknown): FailoverError {
  if (e instanceof FailoverError) return e;
  return new FailoverError(
    { code: FailoverErrorCode.LeaseUnavailable, cause: errorMessage(e) },
    `etcd: ${errorMessage(e)}`,
  );
}

function held(rec: LeaseRecord): FailoverError {
  return new FailoverError(
    { code: FailoverErrorCode.LeaseHeld, holder: rec.holder ?? "", epoch: rec.epoch },
    `the failover lease is held by ${rec.holder} (epoch ${rec.epoch})`,
  );
}

function parseEpoch(s: string): bigint | null {
  return /^[0-9]{1,20}$/.test(s) ? BigInt(s) : null;
}

/** A record another version or a person wrote badly is refused (fail closed: no promotion on it). */
function parseRecord(kv: IKeyValue): RecordV1 {
  let r: unknown;
  try {
    r = JSON.parse(kv.value.toString());
  } catch {
    r = null;
  }
  const o = r as Partial<RecordV1> | null;
  if (
    o === null ||
    typeof o !== "object" ||
    typeof o.holder !== "string" ||
    typeof o.epoch !== "string" ||
    parseEpoch(o.epoch) === null ||
    typeof o.leaseId !== "string" ||
    typeof o.ttlMs !== "number" ||
    typeof o.stopTimeoutMs !== "number" ||
    typeof o.released !== "boolean" ||
    typeof o.holderStopped !== "boolean" ||
    typeof o.acquiredAtMs !== "number"
  ) {
    throw new FailoverError(
      { code: FailoverErrorCode.LeaseUnavailable, cause: "malformed lease record in etcd" },
      "etcd holds a malformed failover lease record",
    );
  }
  return {
    holder: o.holder,
    epoch: o.epoch,
    leaseId: o.leaseId,
    ttlMs: o.ttlMs,
    stopTimeoutMs: o.stopTimeoutMs,
    released: o.released,
    holderStopped: o.holderStopped,
    handoverTo: typeof o.handoverTo === "string" ? o.handoverTo : null,
    acquiredAtMs: o.acquiredAtMs,
    endedAtMs: typeof o.endedAtMs === "number" ? o.endedAtMs : null,
  };
}
