import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdLeaseStore } from "../../../../src/failover/lease/etcdLease.js";
import { type EtcdCluster, HAS_ETCD, startEtcd } from "../../../utils/failover/etcd.js";
import { tempDir } from "../../../utils/stores.js";

/**
 * Issue 14 defect 4: on etcd, "ended ago" of a released lease was computed from the releasing host's wall
 * clock (`Date.now() - endedAtMs`). A host whose clock runs an hour behind made a lease released a moment
 * ago look an hour old. It is now measured on the reading host's monotonic clock from when it first saw
 * the lease ended.
 */
describe.skipIf(!HAS_ETCD)("etcd lease: time rules on the reader's own clock", () => {
  let cluster: EtcdCluster;
  let t: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    t = tempDir("sg-etcd-clock-");
    cluster = await startEtcd(1, t.dir);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    t?.cleanup();
  });

  it("a release stamped by a peer's skewed wall clock counts from the reader's first sight", async () => {
    const store = await EtcdLeaseStore.open({
      name: "skew",
      endpoints: cluster.endpoints,
      reserveMs: 0,
      callTimeoutMs: 3000,
    });
    const raw = new Etcd3({ hosts: cluster.endpoints });
    try {
      const { grant } = await store.acquire({ holder: "a", ttlMs: 60_000, stopTimeoutMs: 1000, reason: "t" });
      await store.release(grant, { holderStopped: false, handoverTo: null });
      // the releasing host's wall clock was an hour behind
      const key = "/slashguard/failover/skew/record";
      const rec = JSON.parse((await raw.get(key).string()) ?? "null") as { endedAtMs: number };
      await raw.put(key).value(JSON.stringify({ ...rec, endedAtMs: Date.now() - 3_600_000 }));
      const seen = await store.read();
      expect(seen.released).toBe(true);
      expect(seen.endedAgoMs).not.toBeNull();
      expect(seen.endedAgoMs!).toBeLessThan(60_000);
    } finally {
      raw.close();
      await store.close();
    }
  });
});
