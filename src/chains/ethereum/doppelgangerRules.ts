import { CHECK_FRACTION, type ChainTime, epochOfSlot, lastSlot, slotAt, slotTimeMs } from "./chainTime.js";

export const DOPPELGANGER_STATUSES = ["unverified", "verified", "doppelganger_detected"] as const;
export type DoppelgangerStatus = (typeof DOPPELGANGER_STATUSES)[number];

/** How a key reached its status (the API's detail says it in words). */
export type DoppelgangerReason =
  | "checking"
  | "checked"
  | "genesis"
  | "restart"
  | "live"
  /** Detected by another signer sharing the store, or by the monitor. */
  | "shared";

/**
 * Liveness epochs a key must be seen silent before it signs (Lighthouse's and Lodestar's
 * DEFAULT_REMAINING_DETECTION_EPOCHS). With the start epoch skipped and the last epoch counted only
 * at the end of the following one, a key started in epoch E signs from the last slot of E+2.
 */
export const DEFAULT_DOPPELGANGER_EPOCHS = 1;

/**
 * Signing types a key under check (or detected) may not sign: what is slashable or makes the key live
 * on the network. Selection proofs, sync-committee messages, contributions, validator registrations
 * and deposits are neither (Lighthouse signs them during its check too); refusing selection proofs
 * would even stop a validator client from fetching the attester duties of its verified keys.
 */
export const DOPPELGANGER_GUARDED_TYPES: ReadonlySet<string> = new Set([
  "BLOCK",
  "BLOCK_V2",
  "ATTESTATION",
  "AGGREGATE_AND_PROOF",
  "AGGREGATE_AND_PROOF_V2",
  "RANDAO_REVEAL",
  "VOLUNTARY_EXIT",
]);

export interface DoppelgangerState {
  status: DoppelgangerStatus;
  reason: DoppelgangerReason;
  /** Epoch the key became active in this signer (registration). */
  sinceEpoch: bigint;
  /** Liveness in epochs before this one is ignored (the start epoch may hold our own previous process). */
  nextCheckEpoch: bigint;
  remainingEpochs: number;
  checkedEpochs: number;
  detectedEpoch: bigint | null;
}

/** What one beacon node said about one key in one epoch. */
export interface LivenessObservation {
  epoch: bigint;
  live: boolean;
  /**
   * Our own signing records explain the activity: an attestation of ours for this epoch or the one
   * before (a late inclusion lands in the next epoch), or a block of ours in it. Such activity is
   * neither a doppelganger nor a clean epoch.
   */
  ours: boolean;
}

export interface LivenessRound {
  /** When the query was sent and when its answer arrived (unix ms). */
  requestMs: number;
  responseMs: number;
  /** The epochs the node answered for this key (a failed or partial query gives fewer or none). */
  observations: readonly LivenessObservation[];
}

/**
 * A key becoming active at `sinceEpoch`. At or before the genesis epoch there is nothing to watch
 * (Lighthouse: otherwise every validator of a new chain would sit out the first epochs and then
 * start together, which protects nobody).
 */
export function registerKey(sinceEpoch: bigint, epochs: number, genesisEpoch = 0n): DoppelgangerState {
  const atGenesis = sinceEpoch <= genesisEpoch;
  return {
    status: atGenesis ? "verified" : "unverified",
    reason: atGenesis ? "genesis" : "checking",
    sinceEpoch,
    nextCheckEpoch: sinceEpoch + 1n,
    remainingEpochs: atGenesis ? 0 : epochs,
    checkedEpochs: 0,
    detectedEpoch: null,
  };
}

/** Lodestar's restart skip: our store shows this key signing in the previous epoch through slashguard. */
export function skipForRestart(s: DoppelgangerState): DoppelgangerState {
  if (s.status !== "unverified") return s;
  return { ...s, status: "verified", reason: "restart", remainingEpochs: 0 };
}

export function markDetected(s: DoppelgangerState, epoch: bigint, reason: DoppelgangerReason): DoppelgangerState {
  return { ...s, status: "doppelganger_detected", reason, detectedEpoch: epoch, remainingEpochs: 0 };
}

/**
 * One liveness round for one key (Lighthouse's rules):
 * - detection: the key was live, not by our own hand, in an epoch >= nextCheckEpoch;
 * - progress: epoch e counts as silent only when asked as the previous epoch at or after three
 *   quarters of the last slot of e+1 (by then every block that may include e's attestations has been
 *   seen), the answer came back within the slot it was asked in, and e >= nextCheckEpoch.
 * Failed, partial, early or late queries never count as silent.
 */
export function applyRound(s: DoppelgangerState, round: LivenessRound, t: ChainTime): DoppelgangerState {
  if (s.status !== "unverified") return s;
  let hit: bigint | null = null;
  for (const o of round.observations) {
    if (o.live && !o.ours && o.epoch >= s.nextCheckEpoch && (hit === null || o.epoch < hit)) hit = o.epoch;
  }
  if (hit !== null) return markDetected(s, hit, "live");

  const requestSlot = slotAt(t, round.requestMs);
  if (requestSlot < 0n) return s;
  const late = slotAt(t, round.responseMs) > requestSlot;
  const prev = epochOfSlot(t, requestSlot) - 1n;
  const satisfied = round.requestMs >= slotTimeMs(t, lastSlot(t, prev + 1n), CHECK_FRACTION);
  const o = round.observations.find((x) => x.epoch === prev);
  if (o === undefined || o.live || late || !satisfied || prev < s.nextCheckEpoch) return s;
  const remaining = s.remainingEpochs - 1;
  return {
    ...s,
    status: remaining <= 0 ? "verified" : "unverified",
    reason: remaining <= 0 ? "checked" : "checking",
    remainingEpochs: Math.max(0, remaining),
    checkedEpochs: s.checkedEpochs + 1,
    nextCheckEpoch: prev + 1n,
  };
}

/**
 * Epochs to ask about in a round at `ms`: the previous and the current one (beacon nodes answer for
 * no earlier epoch), never one before genesis.
 */
export function roundEpochs(t: ChainTime, ms: number): bigint[] {
  const slot = slotAt(t, ms);
  if (slot < 0n) return [];
  const cur = epochOfSlot(t, slot);
  return cur === 0n ? [0n] : [cur - 1n, cur];
}
