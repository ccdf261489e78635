import { afterEach, describe, expect, it } from "vitest";
import { DoppelgangerErrorCode } from "../../../../src/detect/doppelganger/doppelgangerTypes.js";
import { ethDoppelgangerRepository } from "../../../../src/store/ethereum/ethDoppelgangerRepository.js";
import { isAppError } from "../../../../src/util/errors.js";
import { fakePubkeys, newGuard, openProtection, registerKeys, startFakeChain } from "../../../utils/doppelganger.js";
import { FakeBeaconNode } from "../../../utils/fakeBeacon.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../../utils/stores.js";

function refusal(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isAppError(e)) throw e;
    return e.code;
  }
}

markPostgresSkipped("doppelganger guard");

describe.each(ENGINES)("doppelganger guard (%s)", (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(n = 2, o: { epochs?: number } = {}) {
    const ts: TestStore = await openTestStore(engine);
    const keys = fakePubkeys(n);
    await registerKeys(ts.store, keys);
    const { bn, clock } = await startFakeChain(keys);
    const { guard, events } = newGuard(ts.store, clock, [bn.url], o);
    cleanups.push(async () => {
      await guard.stop();
      await bn.stop();
      await ts.dispose();
    });
    return { store: ts.store, keys, bn, clock, guard, events };
  }

  it("clean epochs: refused until three quarters into the last slot of E+2, then signs", async () => {
    const { keys, bn, clock, guard } = await setup();
    guard.activate(keys); // epoch 5
    await guard.tick();
    expect(guard.statuses().map((s) => [s.status, s.index, s.state?.sinceEpoch])).toEqual([
      ["unverified", 0, 5n],
      ["unverified", 1, 5n],
    ]);
    expect(refusal(() => guard.assertMaySign(keys[0]!, "ATTESTATION"))).toBe(DoppelgangerErrorCode.Unverified);
    for (const ms of [bn.epochCheckTime(5), bn.epochCheckTime(6), bn.epochCheckTime(7) - 12_000]) {
      clock.set(ms);
      await guard.tick();
      expect(guard.statuses().every((s) => s.status === "unverified")).toBe(true);
    }
    clock.set(bn.epochCheckTime(7));
    await guard.tick();
    expect(guard.statuses().map((s) => [s.status, s.state?.checkedEpochs])).toEqual([
      ["verified", 1],
      ["verified", 1],
    ]);
    expect(refusal(() => guard.assertMaySign(keys[0]!, "ATTESTATION"))).toBeNull();
    expect(refusal(() => guard.assertMaySign(fakePubkeys(1, 0x10)[0]!, "ATTESTATION"))).toBe(
      DoppelgangerErrorCode.Unverified,
    );
  });

  it("a twin live from the start: refused, reported, and refused by every signer on the store, after restarts too", async () => {
    const { store, keys, bn, clock, guard, events } = await setup();
    guard.activate(keys);
    await guard.tick();
    bn.setLive(6, 1); // the twin attests with key 1 in epoch 6
    clock.set(bn.timeOf(6 * 8 + 3, 0.75));
    await guard.tick();
    expect(guard.statuses().map((s) => s.status)).toEqual(["unverified", "doppelganger_detected"]);
    expect(refusal(() => guard.assertMaySign(keys[1]!, "BLOCK_V2"))).toBe(DoppelgangerErrorCode.Detected);
    expect(refusal(() => guard.assertMaySign(keys[1]!, "RANDAO_REVEAL"))).toBe(DoppelgangerErrorCode.Detected);
    // neither slashable nor visible as liveness: selection proofs keep the client's duties going
    expect(refusal(() => guard.assertMaySign(keys[1]!, "AGGREGATION_SLOT"))).toBeNull();
    expect(events.detections.map((d) => [d.pubkey, d.index, d.epoch])).toEqual([[keys[1], 1, 6n]]);
    const rows = await store.tx((tx) => ethDoppelgangerRepository.detected(tx));
    expect(rows.map((r) => [r.pubkey, r.epoch, r.by])).toEqual([[keys[1], 6n, "signer-a"]]);

    // a second signer on the same store (or this one after a restart) refuses it from its first round on
    const b = newGuard(store, clock, [bn.url], { instance: "signer-b" });
    cleanups.push(() => b.guard.stop());
    b.guard.activate(keys);
    await b.guard.tick();
    expect(b.guard.statuses().map((s) => s.status)).toEqual(["unverified", "doppelganger_detected"]);
    expect(b.events.detections).toEqual([]); // found by signer-a, reported once

    // an operator clears it on signer a: checked again from now on; signer b follows at its next round
    const cleared = await guard.clear(keys[1]!, "alice");
    expect(cleared).toMatchObject({ status: "unverified" });
    expect(cleared.detail).toMatch(/cleared by alice/);
    expect(events.clears).toEqual([{ pubkey: keys[1], by: "alice" }]);
    await b.guard.tick();
    expect(b.guard.statuses().map((s) => s.status)).toEqual(["unverified", "unverified"]);
    await expect(guard.clear(keys[1]!, "alice")).rejects.toMatchObject({ code: DoppelgangerErrorCode.NotDetected });
    await expect(guard.clear(fakePubkeys(1, 0x10)[0]!, "alice")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
  });

  it("a late inclusion of our own last attestation is not a doppelganger (and not a clean epoch)", async () => {
    const { store, keys, bn, clock, guard, events } = await setup(1);
    const protection = await openProtection(store);
    await protection.checkAndRecord({
      kind: "attestation",
      pubkey: Buffer.from(keys[0]!.slice(2), "hex"),
      source: 4n,
      target: 5n,
      signingRoot: new Uint8Array(32).fill(7),
    });
    await protection.close();
    guard.activate(keys); // epoch 5, after our previous process attested
    await guard.tick();
    bn.setLive(6, 0); // its attestation of epoch 5 included in a block of epoch 6
    for (const e of [6, 7]) {
      clock.set(bn.epochCheckTime(e));
      await guard.tick();
    }
    expect(events.detections).toEqual([]);
    expect(guard.statuses()[0]).toMatchObject({ status: "unverified" }); // epoch 6 explained, not silent
    clock.set(bn.epochCheckTime(8));
    await guard.tick();
    expect(guard.statuses()[0]).toMatchObject({ status: "verified", state: { checkedEpochs: 1 } });
  });

  it("restart skip: signed through slashguard in the previous epoch -> verified at once; imported history is not enough", async () => {
    const { store, keys, guard } = await setup(2);
    const protection = await openProtection(store);
    for (const k of keys) {
      await protection.checkAndRecord({
        kind: "attestation",
        pubkey: Buffer.from(k.slice(2), "hex"),
        source: 3n,
        target: 4n,
        signingRoot: new Uint8Array(32).fill(1),
      });
    }
    await protection.close();
    const ids = await registerKeys(store, keys);
    // key 0 was held verified by a slashguard signer in epoch 4; key 1's record came from elsewhere
    await store.tx((tx) => ethDoppelgangerRepository.hold(tx, [ids.get(keys[0]!.slice(2))!], 4n));
    await guard.tick();
    guard.activate(keys);
    await guard.tick();
    expect(guard.statuses().map((s) => [s.status, s.state?.reason])).toEqual([
      ["verified", "restart"],
      ["unverified", "checking"],
    ]);
  });

  it("beacon node down: keys stay refused and the reason is reported; back up, the check goes on", async () => {
    const { keys, bn, clock, guard, events } = await setup(1);
    guard.activate(keys);
    await guard.tick();
    bn.down = true;
    clock.set(bn.epochCheckTime(6));
    await guard.tick();
    clock.set(bn.epochCheckTime(7));
    await guard.tick(); // the round that would have verified the key fails
    expect(guard.statuses()[0]).toMatchObject({ status: "unverified" });
    expect(guard.statuses()[0]!.detail).toMatch(/cannot progress: .*HTTP 503/);
    expect(events.failures).toHaveLength(1); // reported once, not every slot
    expect(events.failures[0]).toMatchObject({ waiting: 1 });
    expect(events.failures[0]!.reason).toMatch(/HTTP 503/);
    bn.down = false;
    clock.set(bn.timeOf(8 * 8, 0.75));
    await guard.tick();
    expect(events.recoveries).toBe(1);
    expect(guard.statuses()[0]).toMatchObject({ status: "unverified" }); // epoch 6 was never seen silent in time
    clock.set(bn.epochCheckTime(8));
    await guard.tick();
    expect(guard.statuses()[0]).toMatchObject({ status: "verified" });
  });

  it("a key without a deposit waits (looked up once per epoch); a key added later is looked up at once", async () => {
    const { keys, bn, clock, guard } = await setup(2);
    const deposited = bn.validators;
    bn.validators = [deposited[0]!];
    guard.activate([keys[0]!, keys[1]!]);
    await guard.tick();
    expect(guard.statuses().map((s) => [s.index, s.detail.startsWith("no validator index")])).toEqual([
      [0, false],
      [null, true],
    ]);
    bn.validators = deposited; // the deposit is processed
    clock.advance(12_000);
    await guard.tick(); // same epoch: not asked again
    expect(guard.statuses()[1]!.index).toBeNull();
    clock.set(bn.timeOf(6 * 8, 0.75));
    await guard.tick();
    expect(guard.statuses()[1]!.index).toBe(1);
  });

  it("no beacon node at all: unverified from the start, with the reason", async () => {
    const { keys, bn, guard, events } = await setup(1);
    await bn.stop();
    guard.activate(keys);
    await guard.tick();
    expect(refusal(() => guard.assertMaySign(keys[0]!, "ATTESTATION"))).toBe(DoppelgangerErrorCode.Unverified);
    expect(events.failures[0]!.reason).toMatch(/unreachable/);
    expect(guard.statuses()[0]!.detail).toMatch(/waiting for a beacon node/);
  });

  it("fails over to the next node, which may speak only Lodestar 1.5.1's older forms", async () => {
    const { store, keys, bn, clock } = await setup(2);
    const old = new FakeBeaconNode({ ...bn.opts });
    old.validators = bn.validators;
    old.oldForms = true;
    await old.start();
    await bn.stop(); // the first node is gone
    const { guard, events } = newGuard(store, clock, [bn.url, old.url]);
    cleanups.push(async () => {
      await guard.stop();
      await old.stop();
    });
    guard.activate(keys);
    await guard.tick();
    old.setLive(6, 1);
    for (const e of [6, 7]) {
      clock.set(old.epochCheckTime(e));
      await guard.tick();
    }
    expect(guard.statuses().map((s) => s.status)).toEqual(["verified", "doppelganger_detected"]);
    expect(events.failures).toEqual([]);
    expect(old.server.requests.some((r) => r.method === "GET" && r.url.startsWith("/eth/v1/validator/liveness?"))).toBe(
      true,
    );
  });

  it("a node of another network or a syncing node is never taken at its word", async () => {
    const { store, keys, bn, clock } = await setup(1);
    const other = new FakeBeaconNode({ ...bn.opts, genesisValidatorsRoot: `0x${"13".repeat(32)}` });
    other.validators = bn.validators;
    await other.start();
    const wrong = newGuard(store, clock, [other.url]);
    cleanups.push(async () => {
      await wrong.guard.stop();
      await other.stop();
    });
    wrong.guard.activate(keys);
    await wrong.guard.tick();
    expect(wrong.events.failures[0]!.reason).toMatch(/another network/);
    expect(other.livenessAsked).toEqual([]);

    bn.syncing = true;
    const { guard, events } = newGuard(store, clock, [bn.url]);
    cleanups.push(() => guard.stop());
    guard.activate(keys);
    for (const e of [5, 6, 7]) {
      clock.set(bn.epochCheckTime(e));
      await guard.tick();
    }
    expect(guard.statuses()[0]!.status).toBe("unverified");
    expect(events.failures[0]!.reason).toMatch(/syncing/);
  });

  it("runs by itself at three quarters of every slot", async () => {
    const { keys, bn, clock, guard } = await setup(1);
    guard.activate(keys);
    guard.start();
    await clock.untilSleeping(); // waiting for the chain's genesis: retries until a round succeeds
    clock.advance(3000);
    await clock.untilSleeping();
    for (let slot = 5 * 8 + 1; slot < 8 * 8; slot++) {
      clock.set(bn.timeOf(slot, 0.75));
      await clock.untilSleeping();
    }
    // the first round ran as soon as the genesis was known; every later one at three quarters of a slot
    const first = bn.livenessAsked[0]!;
    const fractions = bn.livenessAsked.filter((t) => t > first).map((t) => ((t - bn.genesisMs) / 12_000) % 1);
    expect(fractions.length).toBeGreaterThan(10);
    expect(new Set(fractions)).toEqual(new Set([0.75]));
    expect(guard.statuses()[0]!.status).toBe("verified");
  });
});
