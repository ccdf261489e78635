import { afterEach, describe, expect, it } from "vitest";
import { BeaconClient } from "../../../../src/chains/ethereum/beaconClient.js";
import { computeDomain, computeSigningRoot, DomainType } from "../../../../src/chains/ethereum/domain.js";
import { loadEthSszTypes } from "../../../../src/chains/ethereum/sszTypes.js";
import { ForeignSignerScanner } from "../../../../src/detect/foreignSigner/foreignSignerScanner.js";
import { ForeignSignerWatch } from "../../../../src/detect/foreignSigner/foreignSignerWatch.js";
import type { Detection } from "../../../../src/detect/types.js";
import { MaintenanceService } from "../../../../src/fleet/maintenanceService.js";
import { parseReport } from "../../../../src/fleet/reportFormat.js";
import type { EthereumProtection } from "../../../../src/protection/ethereum/ethereumProtection.js";
import { nullLogger } from "../../../../src/util/logger.js";
import {
  DG_GVR_BYTES,
  fakePubkeys,
  openProtection,
  registerKeys,
  startFakeChain,
} from "../../../utils/doppelganger.js";
import type { AttestationDataJson, FakeBeaconNode } from "../../../utils/fakeBeacon.js";
import type { FakeClock } from "../../../utils/fakeClock.js";
import { ManualClock, monitorParts } from "../../../utils/monitorParts.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../../utils/stores.js";

const types = await loadEthSszTypes("mainnet");
const root = (b: number): string => `0x${b.toString(16).padStart(2, "0").repeat(32)}`;

/** The attestation data validator `index` signs in `epoch` (block root `head` varies it). */
function attData(bn: FakeBeaconNode, index: number, epoch: number, head = 0x11): AttestationDataJson {
  return {
    slot: String(epoch * bn.slotsPerEpoch + (index % bn.slotsPerEpoch)),
    index: "0",
    beacon_block_root: root(head),
    source: { epoch: String(epoch - 1), root: root(0x22) },
    target: { epoch: String(epoch), root: root(0x33) },
  };
}

function signingRootOf(d: AttestationDataJson): Uint8Array {
  const domain = computeDomain(types, DomainType.beaconAttester, Uint8Array.of(0, 0, 0, 1), DG_GVR_BYTES);
  return computeSigningRoot(types, types.attestationData.hashTreeRoot(types.attestationData.fromJson(d)), domain);
}

markPostgresSkipped("foreign-signer check");

describe.each(ENGINES)("foreign-signer check (%s)", (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(n = 3, epochsSinceGenesis = 10) {
    const ts: TestStore = await openTestStore(engine);
    const keys = fakePubkeys(n);
    await registerKeys(ts.store, keys);
    const { bn, clock } = await startFakeChain(keys, { genesisEpochsAgo: epochsSinceGenesis });
    const protection = await openProtection(ts.store);
    const found: Detection[][] = [];
    const states: (string | null)[] = [];
    const scanner = new ForeignSignerScanner({ workers: 0 });
    const watch = new ForeignSignerWatch(
      { ownerId: null, expectedSigners: [], preset: "mainnet" },
      {
        beacon: new BeaconClient({ urls: [bn.url], timeoutMs: 2000 }),
        store: ts.store,
        clock,
        logger: nullLogger,
        scanner,
        onDetections: async (d) => {
          found.push(d);
        },
        onCheckState: async (r) => {
          states.push(r);
        },
        onCleared: async () => {},
      },
    );
    cleanups.push(async () => {
      await watch.stop();
      await scanner.close();
      await protection.close();
      await bn.stop();
      await ts.dispose();
    });
    return { store: ts.store, keys, bn, clock, protection, watch, found, states };
  }

  /** Our signer signs `index`'s attestation of `epoch` (recorded), and it lands on chain in the next slot. */
  async function weSign(
    c: { bn: FakeBeaconNode; protection: EthereumProtection; keys: string[] },
    index: number,
    epoch: number,
  ) {
    const d = attData(c.bn, index, epoch);
    await c.protection.checkAndRecord({
      kind: "attestation",
      pubkey: Buffer.from(c.keys[index]!.slice(2), "hex"),
      source: BigInt(epoch - 1),
      target: BigInt(epoch),
      signingRoot: signingRootOf(d),
    });
    return d;
  }

  async function passAt(c: { bn: FakeBeaconNode; clock: FakeClock; watch: ForeignSignerWatch }, epoch: number) {
    c.clock.set(c.bn.epochCheckTime(epoch));
    return c.watch.pass();
  }

  it("our own signing, included on time or one epoch late, is never a foreign signer", async () => {
    const c = await setup(2, 1);
    c.bn.addBlock(0n, 0); // the genesis block names proposer 0, who signed nothing
    expect(await passAt(c, 1)).toEqual([]);
    expect(c.bn.server.requests.some((r) => r.url === "/eth/v1/beacon/headers/1")).toBe(true); // the window was scanned
    for (const epoch of [10, 11, 12]) {
      for (const i of [0, 1]) {
        if (epoch === 12 && i === 1) continue; // key 1 misses epoch 12 …
        const d = await weSign(c, i, epoch);
        // … while its attestation of epoch 11 is included in a block of epoch 12 (counted live in 12)
        const slot = BigInt(epoch * 8 + 8 + i);
        c.bn.addBlock(slot, 7, [{ data: d, attesters: [i] }]);
      }
      c.bn.setLive(epoch, 0, 1);
      expect(await passAt(c, epoch)).toEqual([]);
    }
    expect(c.found).toEqual([]);
    expect(c.states).toEqual([]); // never failed, nothing to report
  });

  it("a twin that appears hours later is reported within one epoch", async () => {
    const c = await setup(3);
    // keys 0 and 1 sign through us every epoch; key 2 is held here but its validator client is stopped
    const signEpoch = async (e: number): Promise<AttestationDataJson[]> => {
      const ds = [await weSign(c, 0, e), await weSign(c, 1, e)];
      c.bn.addBlock(BigInt(e * 8 + 5), 3, [
        { data: ds[0]!, attesters: [0] },
        { data: ds[1]!, attesters: [1] },
      ]);
      return ds;
    };
    for (const e of [10, 11]) {
      await signEpoch(e);
      expect(await passAt(c, e)).toEqual([]);
    }
    const late = 10 + 220; // about 5.9 hours of 96 s epochs later
    await signEpoch(late - 1);
    expect(await passAt(c, late - 1)).toEqual([]);
    // the twin starts: it votes with key 1 for another head, and signs with key 2
    await signEpoch(late);
    const twinVote = attData(c.bn, 1, late, 0x99);
    c.bn.addBlock(BigInt(late * 8 + 6), 4, [{ data: twinVote, attesters: [1] }]);
    c.bn.setLive(late, 2);
    const found = await passAt(c, late);
    expect(found.map((d) => [d.pubkey, d.confidence, d.evidence.signals]).sort()).toEqual([
      [c.keys[1], 1, ["attestation_mismatch"]],
      [c.keys[2], 1, ["live_unrecorded"]], // 0.6 x the unknown signer + 0.4 x both epochs missed
    ]);
  });

  it("an attestation on chain with data we did not sign is a foreign signer with confidence 1, whatever liveness says", async () => {
    const c = await setup(2);
    const e = 12;
    const ours = await weSign(c, 1, e);
    const theirs = attData(c.bn, 1, e, 0x99); // same target, another head: the twin's vote
    c.bn.addBlock(BigInt(e * 8 + 3), 5, [{ data: ours, attesters: [0] }]); // key 0 unknown to our log here
    c.bn.addBlock(BigInt(e * 8 + 4), 6, [{ data: theirs, attesters: [1] }]);
    c.bn.setLive(e, 1);
    const found = await passAt(c, e);
    const byKey = new Map(found.map((d) => [d.pubkey, d]));
    expect(byKey.get(c.keys[1]!)).toMatchObject({ kind: "foreign_signer", confidence: 1 });
    const ev = (
      byKey.get(c.keys[1]!)!.evidence.onchain as { signal: string; their_root: string; our_roots: string[] }[]
    )[0]!;
    expect(ev.signal).toBe("attestation_mismatch");
    expect(ev.our_roots).toEqual([`0x${Buffer.from(signingRootOf(ours)).toString("hex")}`]);
    expect(ev.their_root).toBe(`0x${Buffer.from(signingRootOf(theirs)).toString("hex")}`);
    // key 0 signed nothing through us, yet an attestation of it is on chain
    expect(byKey.get(c.keys[0]!)).toMatchObject({
      confidence: 1,
      evidence: { signals: ["live_unrecorded", "attestation_mismatch"] },
    });
  });

  it("a block proposed with our key that we never signed is a foreign signer", async () => {
    const c = await setup(2);
    await weSign(c, 0, 12);
    c.bn.addBlock(BigInt(12 * 8 + 2), 0);
    const found = await passAt(c, 12);
    expect(found.map((d) => [d.pubkey, d.confidence, (d.evidence.onchain as { signal: string }[])[0]?.signal])).toEqual(
      [[c.keys[0], 1, "block_mismatch"]],
    );
  });

  it("peer data: a fleet host signing with the key raises the confidence; maintenance silences only the misses", async () => {
    const c = await setup(3);
    const parts = monitorParts(c.store, new ManualClock(c.clock.t));
    const token = await parts.tokens.create("acme", "agent", "test");
    const auth = (await parts.tokens.authenticate(token.token))!;
    const ethKey = (pubkey: string, source: "local" | "remote") => ({
      chain: "ethereum",
      pubkey,
      key_type: "bls",
      source: "eth:vc",
      facts: { source, signer_url: source === "remote" ? "https://signer.example:9000" : null, readonly: false },
    });
    const hostReport = (host: string, keys: ReturnType<typeof ethKey>[]) =>
      parseReport({
        version: 1,
        host,
        agent_version: "t",
        interval_ms: 1000,
        observed_at: c.clock.t,
        sources: [{ id: "eth:vc", chain: "ethereum", reachable: true, error: null }],
        keys,
      });
    // vc-1 signs keys 1 and 2 through our signer; rogue holds key 1 in its own keystore
    await parts.ingest.ingest(auth, hostReport("vc-1", [ethKey(c.keys[1]!, "remote"), ethKey(c.keys[2]!, "remote")]));
    await parts.ingest.ingest(auth, hostReport("rogue", [ethKey(c.keys[1]!, "local")]));
    await new MaintenanceService(c.store).create(
      auth.ownerId,
      "vc-1",
      { startsAt: c.clock.t, endsAt: c.clock.t + 86_400_000, reason: "upgrade" },
      "alice",
      c.clock.t,
    );
    await parts.ingest.close();
    c.bn.setLive(12, 1, 2); // both keys live in 12, nothing of ours anywhere
    const found = await passAt(c, 12);
    const byKey = new Map(found.map((d) => [d.pubkey, d]));
    expect(byKey.get(c.keys[1]!)).toMatchObject({ confidence: 1, hosts: ["rogue"], ownerId: auth.ownerId });
    expect(byKey.get(c.keys[2]!)).toMatchObject({
      confidence: 0.6, // 0.6 x the chain's unknown signer; vc-1 is in maintenance, so its misses do not count
      hosts: [],
      evidence: { expected_hosts: ["vc-1"], expected_in_maintenance: true },
    });
  });

  it("beacon node down: the check reports why and runs again when it is back", async () => {
    const c = await setup(1);
    c.bn.down = true;
    expect(await passAt(c, 11)).toEqual([]);
    c.bn.down = false;
    c.bn.setLive(12, 0);
    expect((await passAt(c, 12)).map((d) => d.pubkey)).toEqual([c.keys[0]]);
    expect(c.states.length).toBe(2);
    expect(c.states[0]).toMatch(/HTTP 503/);
    expect(c.states[1]).toBeNull();
  });

  it("runs by itself at three quarters of every epoch's last slot", async () => {
    const c = await setup(1);
    c.watch.start();
    await c.clock.untilSleeping(); // the chain's time is unknown before the first pass: it retries
    c.clock.advance(3000);
    await c.clock.untilSleeping();
    const first = Number(c.bn.currentEpoch());
    const firstPass = c.bn.livenessAsked.at(-1); // the first pass, as soon as the genesis was known
    expect(firstPass).toBe(c.clock.nowMs());
    for (let slot = first * c.bn.slotsPerEpoch + 1; slot < (first + 3) * c.bn.slotsPerEpoch; slot++) {
      c.clock.set(c.bn.timeOf(slot, 0.75));
      await c.clock.untilSleeping();
    }
    const later = new Set(c.bn.livenessAsked.filter((t) => t > firstPass!));
    expect([...later]).toEqual([first, first + 1, first + 2].map((e) => c.bn.epochCheckTime(e)));
    await c.watch.stop();
    expect(c.clock.sleeping).toBe(0);
  });
});
