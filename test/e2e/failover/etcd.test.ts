import { afterEach, describe, expect, it } from "vitest";
import { FailoverCluster } from "../../utils/failover/cluster.js";
import { type EtcdCluster, HAS_ETCD, startEtcd } from "../../utils/failover/etcd.js";
import { tempDir } from "../../utils/stores.js";

let cluster: FailoverCluster | null = null;
let etcd: EtcdCluster | null = null;
let cleanup: (() => void) | null = null;

afterEach(async () => {
  cluster?.dump();
  await cluster?.destroy();
  await etcd?.stop();
  cleanup?.();
  cluster = null;
  etcd = null;
  cleanup = null;
});

describe.skipIf(!HAS_ETCD)("failover on etcd v3 (three members)", () => {
  it("the etcd leader killed during a handover -> still exactly one active, never two signers", async () => {
    const t = tempDir("sg-etcd-e2e-");
    cleanup = t.cleanup;
    etcd = await startEtcd(3, t.dir);
    const url = `etcd://${etcd.endpoints.map((e) => e.replace("http://", "")).join(",")}`;
    const c = await FailoverCluster.create({
      leaseStore: url,
      hosts: [
        { id: "a", role: "active" },
        { id: "b", role: "passive" },
      ],
    });
    cluster = c;
    await c.startDaemon("a");
    await c.startDaemon("b");
    await c.waitFor("a active and signing", async () => (await c.role("a")) === "active" && c.signers().has("a"));
    await c.waitFor("b ready", async () => (await c.status("b"))?.ready === true);

    // sample both roles all along: two actives at one moment would be a failure on its own
    const samples: string[][] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push([(await c.role("a")) ?? "down", (await c.role("b")) ?? "down"]);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    c.setFaults("a", { peers: 0 });
    await c.waitFor("handover under way (b promoting)", async () => (await c.role("b")) === "promoting");
    const leader = await etcd.leader();
    expect(leader).toBeGreaterThanOrEqual(0);
    etcd.kill(leader);
    const killedAt = Date.now();
    c.setFaults("a", {});

    await c.waitFor(
      "exactly one active again, and it signs",
      async () => {
        const roles = [await c.role("a"), await c.role("b")];
        if (roles.filter((r) => r === "active").length !== 1 || !roles.includes("passive")) return false;
        const active = roles[0] === "active" ? "a" : "b";
        return c.ledger().some((l) => l.type === "sign" && l.node === active && l.t > killedAt);
      },
      60_000,
    );
    sampling = false;
    await sampler;
    expect(samples.filter(([a, b]) => a === "active" && b === "active")).toEqual([]);
    expect(c.doubleSigns()).toEqual([]);
  });
});
