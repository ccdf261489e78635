import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FailoverError, FailoverErrorCode } from "../../../../src/failover/errors.js";
import {
  EMPTY_LEASE,
  type LeaseGrant,
  type LeaseStore,
  type RenewResult,
} from "../../../../src/failover/lease/lease.js";
import { LeaseKeeper } from "../../../../src/failover/lease/leaseKeeper.js";
import { nullLogger } from "../../../../src/util/logger.js";

type Mode = "ok" | "down" | "hang" | "lost";

/** A lease store whose own clock decides expiry: TTL from the moment a renewal arrives. */
class StoreModel implements LeaseStore {
  readonly kind = "model";
  mode: Mode = "ok";
  /** Store-side expiry of the lease (fake time). */
  expiresAt = 0;
  latencyMs = 20;
  constructor(readonly ttlMs: number) {}
  read = async () => EMPTY_LEASE;
  acquire = async () => {
    throw new Error("unused");
  };
  release = async () => {};
  requestHandover = async () => {};
  close = async () => {};
  renew(g: LeaseGrant): Promise<RenewResult> {
    const mode = this.mode;
    if (mode === "hang") return new Promise(() => {});
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        if (mode === "down") return reject(new Error("connection refused"));
        if (mode === "lost" || Date.now() >= this.expiresAt) {
          return reject(new FailoverError({ code: FailoverErrorCode.LeaseLost, epoch: g.epoch, holder: "b" }, "lost"));
        }
        // the store starts the new TTL when the request arrives (after the latency)
        this.expiresAt = Date.now() + this.ttlMs;
        setTimeout(() => resolve({ ttlMs: this.ttlMs, handoverTo: null }), this.latencyMs);
      }, this.latencyMs);
    });
  }
}

describe("LeaseKeeper", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(ttl = 3000, margin = 1000, renewEvery = 500) {
    const store = new StoreModel(ttl);
    const lost: { reason: string; at: number }[] = [];
    const keeper = new LeaseKeeper(
      { renewIntervalMs: renewEvery, marginMs: margin },
      {
        store,
        clock: { now: () => Date.now() },
        logger: nullLogger,
        onLost: (reason) => lost.push({ reason, at: Date.now() }),
      },
    );
    const sent = Date.now();
    store.expiresAt = sent + store.latencyMs + ttl;
    keeper.start({ holder: "a", epoch: 1n, ttlMs: ttl }, sent);
    return { store, keeper, lost };
  }

  it("keeps the lease while renewals land", async () => {
    const { keeper, lost } = setup();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lost).toEqual([]);
    expect(keeper.assertHeld().epoch).toBe(1n);
    keeper.stop();
  });

  it.each(["down", "hang"] as const)(
    "store %s: stops the node before the lease can expire in the store",
    async (mode) => {
      const { store, keeper, lost } = setup();
      await vi.advanceTimersByTimeAsync(2000);
      store.mode = mode;
      const storeExpiry = (): number => store.expiresAt;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBe("renew_deadline");
      // ordering, not a time limit: the stop comes first, with the margin to spare
      expect(lost[0]!.at).toBeLessThan(storeExpiry());
      expect(() => keeper.assertHeld()).toThrowError(expect.objectContaining({ code: FailoverErrorCode.LeaseLost }));
    },
  );

  it("a lost lease (another epoch won) stops at once", async () => {
    const { store, lost } = setup();
    await vi.advanceTimersByTimeAsync(1000);
    store.mode = "lost";
    await vi.advanceTimersByTimeAsync(600);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBe("lease_lost");
  });

  it("assertHeld refuses when less than the asked time is left", async () => {
    const { keeper, store } = setup(3000, 1000, 500);
    store.mode = "down";
    await vi.advanceTimersByTimeAsync(1500);
    expect(() => keeper.assertHeld(1000)).toThrow();
    keeper.stop();
  });
});
