import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailoverDaemon } from "../../../src/failover/daemon.js";
import { FailoverError, FailoverErrorCode } from "../../../src/failover/errors.js";
import type { LeaseStore } from "../../../src/failover/lease/lease.js";
import { SqlLeaseStore } from "../../../src/failover/lease/sqlLease.js";
import { monotonic } from "../../../src/failover/monotonic.js";
import { installedKeyAddress } from "../../../src/failover/node/keyFiles.js";
import type { FailoverOptions } from "../../../src/failover/options.js";
import { nullLogger } from "../../../src/util/logger.js";
import { EventLog, FakeChain, FakeNode, FakePeers } from "../../utils/failover/fakes.js";
import { writeValidatorKey } from "../../utils/failover/keys.js";
import { openTestStore, type TestStore, tempDir } from "../../utils/stores.js";

let ts: TestStore;
let tmp: { dir: string; cleanup: () => void };
let daemon: FailoverDaemon | null = null;
let node: FakeNode;
let chain: FakeChain;
let events: EventLog;
let lease: SqlLeaseStore;
let address: string;

function options(over: Partial<FailoverOptions> = {}): FailoverOptions {
  const d = tmp.dir;
  return {
    nodeId: "a",
    startAs: "passive",
    primary: false,
    failback: "auto",
    tickMs: 20,
    health: { minPeers: 1, stallMs: 60_000, signingWindow: 1000, maxCommitsPerCheck: 5 },
    retryAttempts: 1,
    failbackGraceMs: 0,
    handoverWindowMs: 0,
    stateSyncIntervalMs: 50,
    lease: { ttlMs: 60_000, marginMs: 20_000, renewIntervalMs: 1000, reserveMs: 60_000 },
    stopTimeoutMs: 1000,
    stopBoundMs: 1000,
    chainCheck: { heights: 1, timeoutMs: 5000, pollMs: 10 },
    lookbackHeights: 10,
    doubleSignCheckHeight: 1n,
    confirmStoppedTimeoutMs: 1000,
    retryAfterMs: 50,
    files: {
      stateFile: join(d, "state.json"),
      syncedStateFile: join(d, "synced.json"),
      nodeKeyFile: join(d, "node_key.json"),
      nodeConfigFile: null,
      validatorKeyFile: join(d, "validator_key.json"),
    },
    ...over,
  };
}

async function start(over: Partial<FailoverOptions> = {}, leaseStore: LeaseStore = lease): Promise<FailoverDaemon> {
  daemon = await FailoverDaemon.start(options(over), {
    lease: leaseStore,
    node,
    chain,
    evm: null,
    peers: new FakePeers(),
    events,
    metrics: null,
    logger: nullLogger,
    clock: monotonic,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  return daemon;
}

async function until(what: string, f: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; !(await f()); i++) {
    if (i > 500) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The node runs with the validator key, as after a daemon crash. */
function nodeRunsValidatorKey(): void {
  writeFileSync(join(tmp.dir, "node_key.json"), readFileSync(join(tmp.dir, "validator_key.json")));
  node.running = true;
}

beforeEach(async () => {
  ts = await openTestStore("sqlite");
  tmp = tempDir("sg-daemon-");
  address = writeValidatorKey(join(tmp.dir, "validator_key.json")).address;
  node = new FakeNode();
  chain = new FakeChain();
  chain.advancePerStatus = 1n;
  events = new EventLog();
  lease = new SqlLeaseStore({ name: "v", reserveMs: 60_000 }, ts.store);
});

afterEach(async () => {
  await daemon?.stop();
  daemon = null;
  await ts.dispose();
  tmp.cleanup();
});

describe("FailoverDaemon", () => {
  it("fences at start: a node running the validator key while another host holds the lease is stopped", async () => {
    await lease.acquire({ holder: "b", ttlMs: 60_000, stopTimeoutMs: 0, reason: "t" });
    nodeRunsValidatorKey();
    const d = await start();
    expect(node.ops[0]).toBe("stop");
    expect(await installedKeyAddress(join(tmp.dir, "node_key.json"))).not.toBe(address);
    expect(events.events[0]).toMatchObject({ kind: "self_stop", reason: "fenced", stopped: true });
    expect(d.currentRole).toBe("passive");
    // and the passive node comes back with the dummy key
    await until("passive node restarted", () => node.running);
    expect(await installedKeyAddress(join(tmp.dir, "node_key.json"))).not.toBe(address);
  });

  it("resumes after a daemon restart: its own lease and node carry on under a new epoch", async () => {
    await lease.acquire({ holder: "a", ttlMs: 60_000, stopTimeoutMs: 0, reason: "t" });
    nodeRunsValidatorKey();
    const d = await start();
    expect(d.currentRole).toBe("active");
    expect(node.ops).toEqual([]);
    expect((await lease.read()).epoch).toBe(2n);
    expect(events.kinds()).toEqual(["activated"]);
  });

  it("a passive never starts the pair: with no lease ever granted it waits", async () => {
    const d = await start();
    await until("node running", () => node.running);
    await new Promise((r) => setTimeout(r, 300));
    expect(d.currentRole).toBe("passive");
    expect((await lease.read()).epoch).toBe(0n);
  });

  it("an active-configured node takes a free lease through the checklist", async () => {
    const d = await start({ startAs: "active" });
    await until("active", () => d.currentRole === "active");
    expect(events.kinds()).toEqual(["activated"]);
    expect(await installedKeyAddress(join(tmp.dir, "node_key.json"))).toBe(address);
    expect(d.status()).toMatchObject({ role: "active", lease: { holder: "a", epoch: "1", held_by_me: true } });
  });

  it("the primary, healthy past its grace period, asks the active for failback", async () => {
    await lease.acquire({ holder: "b", ttlMs: 60_000, stopTimeoutMs: 0, reason: "t" });
    await start({ primary: true });
    await until("failback asked for", async () => (await lease.read()).handoverTo === "a");
  });

  it("issue 14 defects 1 and 6: a lease lost during a slow node start stops the node at once; meanwhile it reports running", async () => {
    let lost = false;
    const flaky: LeaseStore = {
      kind: lease.kind,
      read: () => lease.read(),
      acquire: (r) => lease.acquire(r),
      renew: async (g) => {
        if (lost) throw new FailoverError({ code: FailoverErrorCode.LeaseLost, epoch: g.epoch, holder: null }, "lost");
        return lease.renew(g);
      },
      release: (g, o) => lease.release(g, o),
      requestHandover: (to) => lease.requestHandover(to),
      close: async () => {},
    };
    const base = options().lease;
    const d = await start({ startAs: "active", lease: { ...base, renewIntervalMs: 20 } }, flaky);
    await until("passive node running", () => node.running);
    let release = (): void => {};
    node.startGate = new Promise((r) => {
      release = r;
    });
    await until(
      "validator start under way",
      () => d.currentRole === "promoting" && node.ops.join() === "start,stop,start",
    );
    expect(d.status().node).toMatchObject({ running: true, starting: true });
    lost = true;
    // stopped while the start has not returned (its gate is still closed)
    await until("node stopped", () => node.ops.at(-1) === "stop" && !node.running);
    await until("passive again", () => d.currentRole === "passive");
    expect(events.kinds()).toContain("self_stop");
    expect(await installedKeyAddress(join(tmp.dir, "node_key.json"))).not.toBe(address);
    release();
  });
});
