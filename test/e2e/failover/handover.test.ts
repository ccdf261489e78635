import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { type ClusterOptions, FailoverCluster } from "../../utils/failover/cluster.js";
import { startTcpProxy, type TcpProxy } from "../../utils/failover/tcpProxy.js";
import { dropPostgresDb, freshPostgresUrl, HAS_PG } from "../../utils/stores.js";
import { REPO_ROOT } from "../../utils/vectors.js";

let cluster: FailoverCluster | null = null;
let db: string | null = null;
let proxy: TcpProxy | null = null;

afterEach(async () => {
  cluster?.dump();
  await cluster?.destroy();
  cluster = null;
  await proxy?.cut();
  proxy = null;
  if (db !== null) await dropPostgresDb(db);
  db = null;
});

type Hosts = ClusterOptions["hosts"];
const PAIR: Hosts = [
  { id: "a", role: "active", primary: true },
  { id: "b", role: "passive" },
];

async function pair(hosts: Hosts = PAIR, extra: Partial<ClusterOptions> = {}): Promise<FailoverCluster> {
  db ??= await freshPostgresUrl();
  cluster = await FailoverCluster.create({ leaseStore: db, hosts, ...extra });
  const c = cluster;
  await c.startDaemon("a");
  await c.startDaemon("b");
  await c.waitFor("a active and signing", async () => (await c.role("a")) === "active" && c.signers().has("a"));
  return c;
}

const kinds = (c: FailoverCluster, id: string): string[] => c.events(id).map((e) => e.kind);

/** Grants of the lease, oldest first, from the epoch history in the database. */
async function grants(url: string): Promise<{ epoch: number; holder: string; at: number }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query("SELECT epoch, holder, acquired_at_ms FROM failover_epochs ORDER BY epoch");
    return r.rows.map((x) => ({ epoch: Number(x.epoch), holder: String(x.holder), at: Number(x.acquired_at_ms) }));
  } finally {
    await client.end();
  }
}

describe.skipIf(!HAS_PG)("failover on PostgreSQL (real daemons, fake nodes)", () => {
  it("active node unhealthy -> passive promoted within the configured time, never two signers", async () => {
    const c = await pair();
    await c.waitFor("b ready", async () => (await c.status("b"))?.ready === true);
    const faultAt = Date.now();
    c.setFaults("a", { peers: 0 }); // below min_peers: unhealthy, though it still signs
    await c.waitFor(
      "b active and signing",
      async () => (await c.role("b")) === "active" && c.signers(faultAt).has("b"),
    );
    // the configured bound: detection (retries + 1 ticks) + stop (1 s) + chain check timeout (20 s) + start (15 s)
    expect(Date.now() - faultAt).toBeLessThan(4 * 200 + 1000 + 20_000 + 15_000);
    expect(await c.role("a")).toBe("passive");
    const ledger = c.ledger();
    const aStop = ledger.findLast((l) => l.type === "stop" && l.node === "a")!;
    const bFirstSign = ledger.find((l) => l.type === "sign" && l.node === "b")!;
    expect(aStop.t).toBeLessThan(bFirstSign.t);
    expect(kinds(c, "a")).toContain("handover");
    expect(kinds(c, "b")).toContain("failover");
    expect(c.doubleSigns()).toEqual([]);
  });

  it("the active's daemon SIGKILLed while its node keeps signing -> no promotion; after a restart one signer", async () => {
    const c = await pair();
    await c.killDaemon("a");
    const killedAt = Date.now();
    await c.waitFor("b refuses: the chain shows the validator signing", () =>
      c.events("b").some((e) => e.kind === "promotion_refused" && e.reason === "chain_signatures"),
    );
    expect(c.nodeRunning("a")).toBe(true);
    expect(c.signers(killedAt)).toEqual(new Set(["a"]));
    expect(await c.role("b")).toBe("passive");
    // the daemon comes back: whatever it decides, exactly one node signs afterwards
    await c.startDaemon("a");
    const back = Date.now();
    await c.waitFor("one active again", async () => {
      const roles = [await c.role("a"), await c.role("b")];
      return roles.filter((r) => r === "active").length === 1 && roles.includes("passive");
    });
    const active = (await c.role("a")) === "active" ? "a" : "b";
    await c.waitFor("the active signs", () =>
      c.ledger().some((l) => l.type === "sign" && l.node === active && l.t > back),
    );
    expect(c.doubleSigns()).toEqual([]);
  });

  it("the active cut off from the lease store stops its node before the passive takes over", async () => {
    db = await freshPostgresUrl();
    const u = new URL(db);
    proxy = await startTcpProxy(u.hostname, Number(u.port || 5432));
    const viaProxy = new URL(db);
    viaProxy.port = String(proxy.port);
    const c = await pair([
      { id: "a", role: "active", leaseStore: viaProxy.toString() },
      { id: "b", role: "passive" },
    ]);
    const cutAt = Date.now();
    await proxy.cut();
    await c.waitFor("b active and signing", async () => (await c.role("b")) === "active" && c.signers(cutAt).has("b"));
    const ledger = c.ledger();
    const aStop = ledger.findLast((l) => l.type === "stop" && l.node === "a")!;
    const bStart = ledger.findLast((l) => l.type === "start" && l.node === "b" && l.validator)!;
    expect(aStop.t).toBeGreaterThan(cutAt);
    expect(aStop.t).toBeLessThan(bStart.t);
    expect(c.events("a")).toContainEqual(expect.objectContaining({ kind: "self_stop", reason: "renew_deadline" }));
    expect(c.doubleSigns()).toEqual([]);
  });

  it.each(["stale", "missing"] as const)(
    "%s state file on the passive -> raised before start, never signs below the chain",
    async (kind) => {
      // b cannot sync from a (wrong address), and its node rejoins 30 heights back, as from an old WAL
      const c = await pair([
        { id: "a", role: "active" },
        { id: "b", role: "passive", peerAddress: { a: "127.0.0.1:1" }, replay: 30 },
      ]);
      await c.waitFor("b ready", async () => (await c.status("b"))?.ready === true);
      await c.waitFor(
        "a signed 10 heights",
        () => c.ledger().filter((l) => l.type === "sign" && l.node === "a").length >= 20,
      );
      const stateFile = join(c.host("b").home, "data", "priv_validator_state.json");
      if (kind === "stale") writeFileSync(stateFile, JSON.stringify({ height: "2", round: 0, step: 3 }));
      else writeFileSync(stateFile, ""); // replaced below by removal: the node must find no file
      if (kind === "missing") (await import("node:fs")).rmSync(stateFile);
      const faultAt = Date.now();
      c.setFaults("a", { peers: 0 });
      await c.waitFor(
        "b active and signing",
        async () => (await c.role("b")) === "active" && c.signers(faultAt).has("b"),
      );
      const ledger = c.ledger();
      const aLast = ledger
        .filter((l) => l.type === "sign" && l.node === "a")
        .map((l) => Number((l as { height: string }).height));
      const bStart = ledger.findLast((l) => l.type === "start" && l.node === "b" && l.validator) as { state: string };
      expect(Number(bStart.state.split("/")[0])).toBeGreaterThan(Math.max(...aLast));
      // the node did try heights below the chain (the rejoin), and its state refused every one of them
      expect(ledger.some((l) => l.type === "refuse" && l.node === "b")).toBe(true);
      for (const l of ledger)
        if (l.type === "sign" && l.node === "b") expect(Number(l.height)).toBeGreaterThan(Math.max(...aLast));
      expect(c.doubleSigns()).toEqual([]);
    },
  );

  it("flapping health -> at most one handover per window; the primary takes over again after its grace period", async () => {
    const window = 6000;
    const c = await pair(PAIR, { handoverWindow: `${window}ms`, failbackGrace: "2s" });
    await c.waitFor("b ready", async () => (await c.status("b"))?.ready === true);
    await c.waitFor("window since a's grant passed", async () => Date.now() - (await grants(db!))[0]!.at > window);
    c.setFaults("a", { peers: 0 });
    await c.waitFor("b active", async () => (await c.role("b")) === "active");
    c.setFaults("a", {});
    // b's node now flaps, unhealthy and healthy in turns, each turn long enough for the hysteresis to follow,
    // until the primary (healthy again) has taken the validator back
    let bad = true;
    c.setFaults("b", { peers: 0 });
    const flapping = setInterval(() => {
      bad = !bad;
      c.setFaults("b", bad ? { peers: 0 } : {});
    }, 2000);
    try {
      await c.waitFor("a active again (failback)", async () => (await c.role("a")) === "active", 40_000);
    } finally {
      clearInterval(flapping);
    }
    expect(c.host("b").log.some((l) => l.includes("handover window is still closed"))).toBe(true);
    const g = await grants(db!);
    expect(g.map((x) => x.holder)).toEqual(["a", "b", "a"]);
    for (let i = 2; i < g.length; i++) expect(g[i]!.at - g[i - 1]!.at).toBeGreaterThanOrEqual(window);
    expect(kinds(c, "a")).toContain("failback");
    expect(c.doubleSigns()).toEqual([]);
  });

  it("failback by hand: with failback manual the primary waits until an operator asks", async () => {
    const c = await pair(PAIR, { failback: "manual", failbackGrace: "1s", handoverWindow: "1s" });
    await c.waitFor("b ready", async () => (await c.status("b"))?.ready === true);
    c.setFaults("a", { peers: 0 });
    await c.waitFor("b active", async () => (await c.role("b")) === "active");
    c.setFaults("a", {});
    await c.waitFor("a healthy and ready", async () => (await c.status("a"))?.ready === true);
    await new Promise((r) => setTimeout(r, 2000)); // well past grace and window: nothing may happen
    expect(await c.role("b")).toBe("active");
    const asked = spawnSync(
      process.execPath,
      ["dist/cli/main.js", "failover", "--config", c.host("a").configFile, "--request-handover"],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
      },
    );
    expect(asked.status).toBe(0);
    await c.waitFor("a active again", async () => (await c.role("a")) === "active");
    expect(kinds(c, "a")).toContain("failback");
    expect(c.doubleSigns()).toEqual([]);
  });
});
