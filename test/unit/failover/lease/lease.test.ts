import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailoverError, FailoverErrorCode } from "../../../../src/failover/errors.js";
import { EtcdLeaseStore } from "../../../../src/failover/lease/etcdLease.js";
import { EMPTY_LEASE, type LeaseGrant, type LeaseStore, mayAcquire } from "../../../../src/failover/lease/lease.js";
import { leaseLockId, SqlLeaseStore } from "../../../../src/failover/lease/sqlLease.js";
import { type EtcdCluster, HAS_ETCD, startEtcd } from "../../../utils/failover/etcd.js";
import { ENGINES, openTestStore, type TestStore, tempDir } from "../../../utils/stores.js";

const code = (e: unknown): string => (e instanceof FailoverError ? e.code : `not typed: ${String(e)}`);
const req = (holder: string, ttlMs: number) => ({ holder, ttlMs, stopTimeoutMs: 500, reason: "test" });

async function until(f: () => Promise<boolean>): Promise<void> {
  while (!(await f())) await new Promise((r) => setTimeout(r, 50));
}

interface Harness {
  name: string;
  /** Shortest TTL the store honours (etcd counts whole seconds). */
  shortTtl: number;
  open(name: string): Promise<LeaseStore>;
  close(): Promise<void>;
}

const harnesses: [string, () => Promise<Harness>][] = ENGINES.map((engine) => [
  engine,
  async () => {
    const ts: TestStore = await openTestStore(engine);
    return {
      name: engine,
      shortTtl: 300,
      open: async (name) => new SqlLeaseStore({ name, reserveMs: 60_000 }, ts.store),
      close: () => ts.dispose(),
    };
  },
]);
if (HAS_ETCD) {
  harnesses.push([
    "etcd",
    async () => {
      const t = tempDir("sg-etcd-");
      const cluster: EtcdCluster = await startEtcd(1, t.dir);
      const opened: LeaseStore[] = [];
      return {
        name: "etcd",
        shortTtl: 1000,
        open: async (name) => {
          const s = await EtcdLeaseStore.open({
            name,
            endpoints: cluster.endpoints,
            reserveMs: 60_000,
            callTimeoutMs: 2000,
          });
          opened.push(s);
          return s;
        },
        close: async () => {
          for (const s of opened) await s.close();
          await cluster.stop();
          t.cleanup();
        },
      };
    },
  ]);
} else {
  it.skip("lease contract on etcd: SKIPPED, etcd is not installed (apt-get install etcd-server)", () => {});
}

describe.each(harnesses)("lease contract on %s", (_name, make) => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await make();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });
  const fresh = (): Promise<LeaseStore> => h.open(`lease-${n++}`);

  it("grants a free lease with epoch 1, then refuses a second holder", async () => {
    const s = await fresh();
    expect(await s.read()).toEqual(EMPTY_LEASE);
    const { grant, previous } = await s.acquire(req("a", 30_000));
    expect(grant.epoch).toBe(1n);
    expect(previous.epoch).toBe(0n);
    const r = await s.read();
    expect(r).toMatchObject({ holder: "a", epoch: 1n, live: true, released: false });
    expect(code(await s.acquire(req("b", 30_000)).catch((e: unknown) => e))).toBe(FailoverErrorCode.LeaseHeld);
  });

  it("renews only the live epoch; a re-grant to the same holder fences the old grant", async () => {
    const s = await fresh();
    const g1 = (await s.acquire(req("a", 30_000))).grant;
    expect((await s.renew(g1)).handoverTo).toBeNull();
    const g2 = (await s.acquire(req("a", 30_000))).grant;
    expect(g2.epoch).toBe(2n);
    expect(code(await s.renew(g1).catch((e: unknown) => e))).toBe(FailoverErrorCode.LeaseLost);
    await s.renew(g2);
    const forged: LeaseGrant = { ...g2, epoch: 7n };
    expect(code(await s.renew(forged).catch((e: unknown) => e))).toBe(FailoverErrorCode.LeaseLost);
  });

  it("a release names the next holder and says the node stopped; others wait for the reservation", async () => {
    const s = await fresh();
    const g = (await s.acquire(req("a", 30_000))).grant;
    await s.requestHandover("b");
    expect((await s.renew(g)).handoverTo).toBe("b");
    await s.release(g, { holderStopped: true, handoverTo: "b" });
    expect(await s.read()).toMatchObject({ live: false, released: true, holderStopped: true, handoverTo: "b" });
    expect(code(await s.renew(g).catch((e: unknown) => e))).toBe(FailoverErrorCode.LeaseLost);
    expect(code(await s.acquire(req("c", 30_000)).catch((e: unknown) => e))).toBe(FailoverErrorCode.LeaseHeld);
    expect(code(await s.acquire(req("a", 30_000)).catch((e: unknown) => e))).toBe(FailoverErrorCode.LeaseHeld);
    const { grant, previous } = await s.acquire(req("b", 30_000));
    expect(grant.epoch).toBe(2n);
    expect(previous).toMatchObject({ holder: "a", released: true, holderStopped: true });
  });

  it("expires without renewals; the next holder learns how long ago, and the old one cannot renew", async () => {
    const s = await fresh();
    const g = (await s.acquire(req("a", h.shortTtl))).grant;
    await until(async () => !(await s.read()).live);
    expect(code(await s.renew(g).catch((e: unknown) => e))).toBe(FailoverErrorCode.LeaseLost);
    const { grant, previous } = await s.acquire(req("b", 30_000));
    expect(grant.epoch).toBe(2n);
    expect(previous).toMatchObject({
      holder: "a",
      live: false,
      released: false,
      holderStopped: false,
      stopTimeoutMs: 500,
    });
    expect(previous.endedAgoMs).toBeGreaterThanOrEqual(0);
  });

  it("concurrency: many nodes race for a free lease, exactly one wins and epochs never repeat", async () => {
    const stores = await Promise.all(Array.from({ length: 8 }, () => h.open(`race-${n}`)));
    n++;
    for (let round = 1; round <= 3; round++) {
      const rs = await Promise.allSettled(stores.map((s, i) => s.acquire(req(`n${round}-${i}`, h.shortTtl))));
      const won = rs.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const r of rs) if (r.status === "rejected") expect(code(r.reason)).toBe(FailoverErrorCode.LeaseHeld);
      const g = (won[0] as PromiseFulfilledResult<{ grant: LeaseGrant }>).value.grant;
      expect(g.epoch).toBe(BigInt(round));
      await stores[0]!.release(g, { holderStopped: true, handoverTo: null });
      expect((await stores[0]!.read()).live).toBe(false);
    }
  });
});

describe("lease rules", () => {
  it("mayAcquire: free, expired or own leases; a handover reservation holds off everyone but the target", () => {
    const base = { ...EMPTY_LEASE, holder: "a", epoch: 3n };
    expect(mayAcquire(EMPTY_LEASE, "x", 1000)).toBe(true);
    expect(mayAcquire({ ...base, live: true }, "b", 1000)).toBe(false);
    expect(mayAcquire({ ...base, live: true }, "a", 1000)).toBe(true);
    expect(mayAcquire({ ...base, endedAgoMs: 5 }, "b", 1000)).toBe(true);
    const reserved = { ...base, released: true, handoverTo: "b", endedAgoMs: 10 };
    expect(mayAcquire(reserved, "b", 1000)).toBe(true);
    expect(mayAcquire(reserved, "c", 1000)).toBe(false);
    expect(mayAcquire(reserved, "a", 1000)).toBe(false);
    expect(mayAcquire({ ...reserved, endedAgoMs: 1000 }, "c", 1000)).toBe(true);
  });

  it("the advisory lock id of a name is stable and fits int4", () => {
    expect(leaseLockId("failover")).toBe(leaseLockId("failover"));
    expect(leaseLockId("a")).not.toBe(leaseLockId("b"));
    for (const s of ["", "x", "story-validator-1", "é".repeat(100)]) {
      expect(leaseLockId(s)).toBeGreaterThanOrEqual(0);
      expect(leaseLockId(s)).toBeLessThan(2 ** 31);
    }
  });

  it.each(ENGINES)(
    "%s: the schema refuses a lower epoch and a second grant of one epoch (backstop)",
    async (engine) => {
      const ts = await openTestStore(engine);
      try {
        const s = new SqlLeaseStore({ name: "x", reserveMs: 0 }, ts.store);
        await s.acquire(req("a", 30_000));
        await s.acquire(req("a", 30_000));
        const lower = ts.store.tx((tx) =>
          tx.run("UPDATE failover_lease SET epoch = $1 WHERE name = 'x'", [tx.u64(1n)]),
        );
        await expect(lower).rejects.toThrow();
        const same = ts.store.tx((tx) =>
          tx.run(
            "INSERT INTO failover_epochs (name, epoch, holder, acquired_at_ms, reason) VALUES ('x', $1, 'b', 0, 'dup')",
            [tx.u64(2n)],
          ),
        );
        await expect(same).rejects.toMatchObject({ code: "ERR_STORE_CONSTRAINT" });
        expect((await s.read()).epoch).toBe(2n);
      } finally {
        await ts.dispose();
      }
    },
  );
});
