import { bytesEqual } from "../../util/hex.js";
import { SubstrateErrorCode, type SubstrateRefusal } from "./errors.js";
import {
  type BabeRecord,
  type BeefyRecord,
  type GrandpaRecord,
  GrandpaStage,
  type ParaRecord,
  paraSide,
  type SubstrateRecord,
} from "./types.js";

export type RuleResult = { result: "insert" } | { result: "repeat" } | { result: "refuse"; refusal: SubstrateRefusal };

const INSERT: RuleResult = { result: "insert" };
const REPEAT: RuleResult = { result: "repeat" };

/**
 * GRANDPA: per (set id, round, stage) the first target wins; the same target again is a repeat (a
 * restarted voter re-signs its vote). Prevote and precommit are separate; a new set id restarts rounds.
 * Primary proposals have no equivocation proof, so they are recorded and never refused.
 * `stored` is the record at the same (set, round, stage), if any; `lowSetId` the key's watermark.
 */
export function checkGrandpa(
  incoming: GrandpaRecord,
  stored: GrandpaRecord | null,
  lowSetId: bigint | null,
): RuleResult {
  if (lowSetId !== null && incoming.setId < lowSetId) return below(incoming, lowSetId);
  if (incoming.stage === GrandpaStage.PrimaryPropose) return INSERT;
  if (stored === null) return INSERT;
  if (
    stored.targetHash !== null &&
    stored.targetNumber === incoming.targetNumber &&
    bytesEqual(stored.targetHash, incoming.targetHash)
  ) {
    return REPEAT;
  }
  return { result: "refuse", refusal: { code: SubstrateErrorCode.GrandpaEquivocation, incoming, previous: stored } };
}

/** BABE: one header per slot; the same pre-hash again is a repeat. `stored` is the record at that slot. */
export function checkBabe(incoming: BabeRecord, stored: BabeRecord | null, lowSlot: bigint | null): RuleResult {
  if (lowSlot !== null && incoming.slot < lowSlot) return below(incoming, lowSlot);
  if (stored === null) return INSERT;
  if (bytesEqual(stored.preHash, incoming.preHash)) return REPEAT;
  return { result: "refuse", refusal: { code: SubstrateErrorCode.BabeEquivocation, incoming, previous: stored } };
}

/** BEEFY: one commitment per (validator set id, block number); the same commitment again is a repeat. */
export function checkBeefy(incoming: BeefyRecord, stored: BeefyRecord | null, lowSetId: bigint | null): RuleResult {
  if (lowSetId !== null && incoming.setId < lowSetId) return below(incoming, lowSetId);
  if (stored === null) return INSERT;
  if (bytesEqual(stored.commitmentHash, incoming.commitmentHash)) return REPEAT;
  return { result: "refuse", refusal: { code: SubstrateErrorCode.BeefyDoubleVote, incoming, previous: stored } };
}

/** What the store knows about one key's votes on one candidate. side null: both sides (from an import). */
export interface ParaVoteState {
  side: "valid" | "invalid" | null;
  statements: ReadonlySet<string>;
  session: bigint | null;
}

/**
 * Disputes: one key on both sides of one candidate is slashable, so the first side wins; seconded,
 * backing-valid, approval and explicit valid votes are all on the valid side. A statement already
 * recorded is a repeat. A statement of unknown session (null) is refused once the key has a session
 * watermark: its candidate's votes may have been pruned.
 */
export function checkPara(incoming: ParaRecord, stored: ParaVoteState | null, lowSession: bigint | null): RuleResult {
  if (lowSession !== null && (incoming.session === null || incoming.session < lowSession)) {
    return below(incoming, lowSession);
  }
  if (stored === null) return INSERT;
  if (stored.side !== paraSide(incoming.statement)) {
    return {
      result: "refuse",
      refusal: {
        code: SubstrateErrorCode.ParaDoubleVote,
        incoming,
        previous: {
          kind: "para",
          candidateHash: incoming.candidateHash,
          // both sides stored (import): show the side that conflicts with this request
          statement: stored.side ?? (paraSide(incoming.statement) === "valid" ? "invalid" : "valid"),
          session: stored.session,
        },
      },
    };
  }
  return stored.statements.has(incoming.statement) ? REPEAT : INSERT;
}

function below(incoming: SubstrateRecord, low: bigint): RuleResult {
  return { result: "refuse", refusal: { code: SubstrateErrorCode.BelowWatermark, incoming, previous: { low } } };
}
