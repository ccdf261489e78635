import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serializeValidatorState } from "../../../src/chains/cometbft/stateFile.js";
import { FailoverError, FailoverErrorCode, RefusalReason } from "../../../src/failover/errors.js";
import { LeaseKeeper } from "../../../src/failover/lease/leaseKeeper.js";
import { SqlLeaseStore } from "../../../src/failover/lease/sqlLease.js";
import { installedKeyAddress } from "../../../src/failover/node/keyFiles.js";
import { readDoubleSignCheckHeight } from "../../../src/failover/node/nodeConfig.js";
import { readStateFile } from "../../../src/failover/node/stateFile.js";
import type { FailoverOptions } from "../../../src/failover/options.js";
import { type PromotionContext, promote } from "../../../src/failover/promotion.js";
import { nullLogger } from "../../../src/util/logger.js";
import { EventLog, FakeChain, FakeNode, FakePeers, ManualClock, VALIDATOR } from "../../utils/failover/fakes.js";
import { writeValidatorKey } from "../../utils/failover/keys.js";
import { openTestStore, type TestStore, tempDir } from "../../utils/stores.js";

interface World {
  ctx: PromotionContext;
  clock: ManualClock;
  chain: FakeChain;
  node: FakeNode;
  peers: FakePeers;
  lease: SqlLeaseStore;
  files: FailoverOptions["files"];
  validatorAddress: string;
  /** What the node found when it started: which key, and the state file's text. */
  startedWith: { key: string | null; state: string } | null;
}

let ts: TestStore;
let cleanup: () => void;
let world: World;

async function makeWorld(): Promise<World> {
  const t = tempDir("sg-promote-");
  cleanup = t.cleanup;
  const files = {
    stateFile: join(t.dir, "priv_validator_state.json"),
    syncedStateFile: join(t.dir, "synced.json"),
    nodeKeyFile: join(t.dir, "priv_validator_key.json"),
    nodeConfigFile: join(t.dir, "config.toml"),
    validatorKeyFile: join(t.dir, "validator_key.json"),
  };
  const key = writeValidatorKey(files.validatorKeyFile);
  writeFileSync(files.nodeConfigFile, '[consensus]\ntimeout_commit = "1s"\n');
  const chain = new FakeChain();
  // the fake chain's validator address is fixed; use it as ours
  const content = readFileSync(files.validatorKeyFile, "utf8");
  const node = new FakeNode();
  node.running = true; // the passive node runs with a dummy key
  const peers = new FakePeers();
  const lease = new SqlLeaseStore({ name: "v", reserveMs: 60_000 }, ts.store);
  const clock = new ManualClock();
  const opts: FailoverOptions = {
    nodeId: "b",
    startAs: "passive",
    primary: false,
    failback: "auto",
    tickMs: 100,
    health: { minPeers: 1, stallMs: 1000, signingWindow: 3, maxCommitsPerCheck: 20 },
    retryAttempts: 2,
    failbackGraceMs: 1000,
    handoverWindowMs: 1000,
    stateSyncIntervalMs: 100,
    lease: { ttlMs: 60_000, marginMs: 20_000, renewIntervalMs: 10_000, reserveMs: 60_000 },
    stopTimeoutMs: 1000,
    stopBoundMs: 200,
    chainCheck: { heights: 3, timeoutMs: 5000, pollMs: 100 },
    lookbackHeights: 50,
    doubleSignCheckHeight: 3n,
    confirmStoppedTimeoutMs: 500,
    retryAfterMs: 100,
    files,
  };
  const keeper = new LeaseKeeper(
    { renewIntervalMs: opts.lease.renewIntervalMs, marginMs: opts.lease.marginMs },
    { store: lease, clock, logger: nullLogger, onLost: () => {} },
  );
  const w: World = {
    clock,
    chain,
    node,
    peers,
    lease,
    files,
    validatorAddress: key.address,
    startedWith: null,
    ctx: {
      opts,
      m: {
        lease,
        node,
        chain,
        evm: null,
        peers,
        events: new EventLog(),
        metrics: null,
        logger: nullLogger,
        clock,
        sleep: clock.sleep,
      },
      keeper,
      // the fake chain knows the validator as VALIDATOR
      validatorKey: { info: { type: "ed25519", address: VALIDATOR }, content },
      signal: new AbortController().signal,
      stopLocalNode: async () => {
        await node.stop();
        writeFileSync(files.nodeKeyFile, '{"dummy": true}');
      },
      installValidatorKey: async (c) => writeFileSync(files.nodeKeyFile, c),
      startNode: (signal) => node.start(signal),
    },
  };
  node.onStart = () => {
    w.startedWith = {
      key: readFileSync(files.nodeKeyFile, "utf8") === content ? "validator" : "other",
      state: readFileSync(files.stateFile, "utf8"),
    };
  };
  return w;
}

/** The old active "a" held the lease and ended it as given. */
async function oldActive(w: World, end: "released-stopped" | "expired", stopTimeoutMs = 1000): Promise<void> {
  const { grant } = await w.lease.acquire({
    holder: "a",
    ttlMs: end === "expired" ? 200 : 60_000,
    stopTimeoutMs,
    reason: "t",
  });
  if (end === "released-stopped") await w.lease.release(grant, { holderStopped: true, handoverTo: null });
  else while ((await w.lease.read()).live) await new Promise((r) => setTimeout(r, 20));
}

function refusal(e: unknown): string {
  if (e instanceof FailoverError && e.type.code === FailoverErrorCode.PromotionRefused) return e.type.reason;
  return `unexpected: ${String(e)}`;
}

beforeEach(async () => {
  ts = await openTestStore("sqlite");
  world = await makeWorld();
  // the old active signed up to height 9; the tip is 10 and the chain moves one height per status call
  for (let h = 1n; h <= 9n; h++) world.chain.signed.add(h);
  world.chain.advancePerStatus = 1n;
});

afterEach(async () => {
  world.ctx.keeper.stop();
  await ts.dispose();
  cleanup();
});

describe("promotion checklist", () => {
  it("all checks pass: state raised to the max, double_sign_check_height set, key in place, then start", async () => {
    await oldActive(world, "released-stopped");
    writeFileSync(world.files.stateFile, serializeValidatorState({ height: 3n, round: 0, step: 3 }));
    writeFileSync(world.files.syncedStateFile, serializeValidatorState({ height: 9n, round: 0, step: 2 }));
    world.peers.states.set("a", { height: 9n, round: 0, step: 3, signature: "AA==" });
    const r = await promote(world.ctx, "test");
    expect(r.grant.epoch).toBe(2n);
    expect(r.confirmedBy).toContain("released");
    expect(r.silence.to - r.silence.from).toBe(2n);
    expect(world.node.ops).toEqual(["stop", "start"]);
    // what the node loaded: the validator key and a state above everything the chain shows signed
    expect(world.startedWith?.key).toBe("validator");
    expect(JSON.parse(world.startedWith!.state)).toEqual({ height: "10", round: 0, step: 0 });
    expect(readDoubleSignCheckHeight(readFileSync(world.files.nodeConfigFile!, "utf8"))).toBe(3n);
    expect((await world.lease.read()).holder).toBe("b");
  });

  it("a missing state file on the passive is created above the chain before start", async () => {
    await oldActive(world, "released-stopped");
    await promote(world.ctx, "test");
    expect(await readStateFile(world.files.stateFile)).toEqual({ height: 10n, round: 0, step: 0 });
  });

  it("keeps a synced state that is higher than the chain (the old node's last vote was not committed)", async () => {
    await oldActive(world, "released-stopped");
    world.peers.states.set("a", { height: 11n, round: 2, step: 2, signature: "AA==", signbytes: "AB" });
    await promote(world.ctx, "test");
    expect(await readStateFile(world.files.stateFile)).toEqual({
      height: 11n,
      round: 2,
      step: 2,
      signature: "AA==",
      signbytes: "AB",
    });
  });

  it("refuses when the chain shows the validator still signing; nothing starts, key stays dummy, lease released", async () => {
    await oldActive(world, "released-stopped");
    const status = world.chain.status.bind(world.chain);
    world.chain.status = async () => {
      const s = await status();
      world.chain.signed.add(s.latestHeight - 1n); // someone keeps signing
      return s;
    };
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.ChainSignatures);
    expect(world.node.ops).not.toContain("start");
    expect(await installedKeyAddress(world.files.nodeKeyFile)).toBeNull();
    expect(await world.lease.read()).toMatchObject({ holder: "b", live: false, released: true, holderStopped: true });
  });

  it("a refusal before the state step leaves the passive node alone", async () => {
    await oldActive(world, "expired", 60_000);
    await promote(world.ctx, "test").catch(() => {});
    expect(world.node.ops).toEqual([]);
    expect(world.node.running).toBe(true);
  });

  it("refuses while another node holds the lease, touching nothing", async () => {
    await world.lease.acquire({ holder: "a", ttlMs: 60_000, stopTimeoutMs: 1000, reason: "t" });
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.LeaseHeld);
    expect(world.node.ops).toEqual([]);
  });

  it("refuses when nothing proves the old node stopped (lease just expired, daemon silent)", async () => {
    await oldActive(world, "expired", 60_000);
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.OldNotStopped);
    expect(world.node.ops).not.toContain("start");
  });

  it("accepts the old daemon's word that its node is stopped", async () => {
    await oldActive(world, "expired", 60_000);
    world.peers.views.set("a", {
      nodeId: "a",
      role: "passive",
      nodeRunning: false,
      starting: false,
      key: "dummy",
      ready: false,
      authenticated: true,
    });
    expect((await promote(world.ctx, "test")).confirmedBy).toBe("its failover daemon");
  });

  it("accepts a lease that ended longer ago than the old holder's stop timeout", async () => {
    await oldActive(world, "expired", 300);
    expect((await promote(world.ctx, "test")).confirmedBy).toMatch(/^lease ended/);
  });

  it("a node that fails to start is stopped again with the dummy key, and the lease released", async () => {
    await oldActive(world, "released-stopped");
    world.node.failStart = true;
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.NodeFailed);
    expect(world.node.ops).toEqual(["stop", "start", "stop"]);
    expect(await installedKeyAddress(world.files.nodeKeyFile)).toBeNull();
    expect((await world.lease.read()).live).toBe(false);
  });

  it("a lost lease aborts before the node starts", async () => {
    await oldActive(world, "released-stopped");
    const status = world.chain.status.bind(world.chain);
    let calls = 0;
    world.chain.status = async () => {
      if (++calls === 3) world.ctx.keeper.stop(); // the keeper gave the lease up (e.g. renew deadline)
      return status();
    };
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.LeaseLost);
    expect(world.node.ops).not.toContain("start");
  });

  it("issue 14 defect 1: no start with less than a renewal interval left before the self-stop", async () => {
    await oldActive(world, "released-stopped");
    // the key install took long: 5 s are left before the self-stop deadline (ttl 60 s - margin 20 s)
    world.ctx.installValidatorKey = async (c) => {
      writeFileSync(world.files.nodeKeyFile, c);
      world.clock.t += 35_000;
    };
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.LeaseLost);
    expect(world.node.ops).not.toContain("start");
    expect(world.node.running).toBe(false);
  });

  it("issue 14 defect 1: an aborted promotion (lease lost) stops at the next step", async () => {
    await oldActive(world, "released-stopped");
    const ac = new AbortController();
    world.ctx.signal = ac.signal;
    world.ctx.installValidatorKey = async (c) => {
      writeFileSync(world.files.nodeKeyFile, c);
      ac.abort();
    };
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.LeaseLost);
    expect(world.node.ops).toEqual(["stop", "stop"]);
  });

  it("issue 14 defect 3: a release saying the node could NOT stop is never confirmed by time", async () => {
    const { grant } = await world.lease.acquire({ holder: "a", ttlMs: 60_000, stopTimeoutMs: 100, reason: "t" });
    await world.lease.release(grant, { holderStopped: false, handoverTo: null });
    await new Promise((r) => setTimeout(r, 150)); // longer ago than its stop timeout, by the store's clock
    world.clock.t += 1000;
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.OldNotStopped);
    expect(world.node.ops).not.toContain("start");
  });

  it("issue 14 defect 5: the lease announces the stop bound (kill path included), not the stop timeout", async () => {
    await oldActive(world, "released-stopped");
    world.ctx.opts = { ...world.ctx.opts, stopTimeoutMs: 1000, stopBoundMs: 3500 };
    await promote(world.ctx, "test");
    expect((await world.lease.read()).stopTimeoutMs).toBe(3500);
  });

  it("issue 14 defect 5: a successor waits its own stop bound when the old holder announced less", async () => {
    await oldActive(world, "expired", 50);
    world.ctx.opts = { ...world.ctx.opts, stopBoundMs: 60_000 };
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.OldNotStopped);
  });

  it.each([
    ["unauthenticated", { authenticated: false }],
    ["starting", { starting: true }],
    ["promoting", { role: "promoting" }],
  ])("issue 14 defect 6: a peer's 'stopped' is no evidence when %s", async (_n, over) => {
    await oldActive(world, "expired", 60_000);
    world.peers.views.set("a", {
      nodeId: "a",
      role: "passive",
      nodeRunning: false,
      starting: false,
      key: "dummy",
      ready: false,
      authenticated: true,
      ...over,
    });
    const e = await promote(world.ctx, "test").catch((x: unknown) => x);
    expect(refusal(e)).toBe(RefusalReason.OldNotStopped);
  });
});
