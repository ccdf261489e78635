import type { ChainSpec, Genesis } from "./beaconParse.js";

/** Slot and epoch arithmetic of one chain (genesis time and slot length from its beacon node). */
export interface ChainTime {
  genesisMs: number;
  slotMs: number;
  slotsPerEpoch: bigint;
}

export function chainTimeOf(g: Genesis, s: ChainSpec): ChainTime {
  return {
    genesisMs: Number(g.genesisTimeSec) * 1000,
    slotMs: Number(s.secondsPerSlot) * 1000,
    slotsPerEpoch: s.slotsPerEpoch,
  };
}

/** Slot at a wall-clock time; -1 before genesis. */
export function slotAt(t: ChainTime, ms: number): bigint {
  if (ms < t.genesisMs) return -1n;
  return BigInt(Math.floor((ms - t.genesisMs) / t.slotMs));
}

/** Epoch at a wall-clock time; -1 before genesis. */
export function epochAt(t: ChainTime, ms: number): bigint {
  const s = slotAt(t, ms);
  return s < 0n ? -1n : s / t.slotsPerEpoch;
}

export function epochOfSlot(t: ChainTime, slot: bigint): bigint {
  return slot / t.slotsPerEpoch;
}

export function firstSlot(t: ChainTime, epoch: bigint): bigint {
  return epoch * t.slotsPerEpoch;
}

export function lastSlot(t: ChainTime, epoch: bigint): bigint {
  return (epoch + 1n) * t.slotsPerEpoch - 1n;
}

/** Wall-clock time at `fraction` (0..1) into a slot. */
export function slotTimeMs(t: ChainTime, slot: bigint, fraction = 0): number {
  return t.genesisMs + (Number(slot) + fraction) * t.slotMs;
}

/**
 * Three quarters into a slot: by then the beacon node should have seen the slot's block and
 * attestations (Lighthouse and Lodestar poll liveness at this point).
 */
export const CHECK_FRACTION = 0.75;

/** The next time at CHECK_FRACTION of a slot strictly after `ms`. */
export function nextCheckTimeMs(t: ChainTime, ms: number): number {
  const s = slotAt(t, ms);
  const slot = s < 0n ? 0n : s;
  const at = slotTimeMs(t, slot, CHECK_FRACTION);
  return at > ms ? at : slotTimeMs(t, slot + 1n, CHECK_FRACTION);
}
