import { BeaconClient } from "../../src/chains/ethereum/beaconClient.js";
import type { DetectedKey, DoppelgangerEvents } from "../../src/detect/doppelganger/doppelgangerTypes.js";
import { EthereumProtection } from "../../src/protection/ethereum/ethereumProtection.js";
import { DoppelgangerGuard } from "../../src/signer/gates/doppelgangerGuard.js";
import { ethValidatorsRepository } from "../../src/store/ethereum/ethValidatorsRepository.js";
import type { Store } from "../../src/store/types.js";
import { nullLogger } from "../../src/util/logger.js";
import { FakeBeaconNode } from "./fakeBeacon.js";
import { FakeClock } from "./fakeClock.js";

export const DG_GVR = `0x${"42".repeat(32)}`;
export const DG_GVR_BYTES = new Uint8Array(Buffer.from(DG_GVR.slice(2), "hex"));

/** Distinct, well-formed (not on-curve: the guard never verifies them) public keys. */
export function fakePubkeys(n: number, seed = 0xa0): string[] {
  return Array.from({ length: n }, (_, i) => `0x${(seed + i).toString(16).padStart(2, "0").repeat(48)}`);
}

/** Records what the guard reports upward. */
export class RecordedEvents implements DoppelgangerEvents {
  readonly detections: DetectedKey[] = [];
  readonly clears: { pubkey: string; by: string }[] = [];
  readonly failures: { reason: string; waiting: number }[] = [];
  recoveries = 0;
  detected(keys: DetectedKey[]): void {
    this.detections.push(...keys);
  }
  cleared(pubkey: string, by: string): void {
    this.clears.push({ pubkey, by });
  }
  checkFailed(reason: string, waiting: number): void {
    this.failures.push({ reason, waiting });
  }
  checkRecovered(): void {
    this.recoveries++;
  }
}

/** A fake chain (8 slots of 12 s per epoch) whose clock is the test's, with validators 0..n-1. */
export async function startFakeChain(pubkeys: string[], o: { genesisEpochsAgo?: number } = {}) {
  const genesisTimeSec = 1_700_000_000;
  const clock = new FakeClock(genesisTimeSec * 1000);
  const bn = new FakeBeaconNode({ genesisTimeSec, genesisValidatorsRoot: DG_GVR, now: clock.nowMs });
  bn.validators = pubkeys.map((pubkey, index) => ({ index, pubkey }));
  await bn.start();
  clock.set(bn.timeOf(BigInt((o.genesisEpochsAgo ?? 5) * bn.slotsPerEpoch), 0.1));
  return { bn, clock };
}

/** Registers keys in the signing log as the signer does before activating them. */
export async function registerKeys(store: Store, pubkeys: string[]): Promise<Map<string, number>> {
  return store.tx((tx) =>
    ethValidatorsRepository.upsert(
      tx,
      pubkeys.map((p) => Buffer.from(p.slice(2), "hex")),
    ),
  );
}

export function newGuard(
  store: Store,
  clock: FakeClock,
  urls: string[],
  o: { epochs?: number; instance?: string; events?: RecordedEvents } = {},
) {
  const events = o.events ?? new RecordedEvents();
  const guard = new DoppelgangerGuard(
    { epochs: o.epochs ?? 1, genesisValidatorsRoot: DG_GVR_BYTES, instance: o.instance ?? "signer-a" },
    { beacon: new BeaconClient({ urls, timeoutMs: 2000 }), store, clock, logger: nullLogger, events },
  );
  return { guard, events };
}

export async function openProtection(store: Store): Promise<EthereumProtection> {
  return EthereumProtection.open({ genesisValidatorsRoot: DG_GVR_BYTES }, { store, logger: nullLogger, metrics: null });
}
