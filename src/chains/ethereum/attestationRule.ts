import { bytesEqual } from "../../util/hex.js";
import { maxBig } from "../../util/u64.js";
import type { RuleResult } from "./blockRule.js";
import { ProtectionErrorCode, type ProtectionRefusal } from "./protectionErrors.js";
import type { AttestationRecord, AttestationState } from "./protectionTypes.js";

/**
 * Whether the decision needs stored records. A target above every target signed, with a source not
 * below any source signed, can neither double vote nor surround nor be surrounded.
 */
export function attestationNeedsHistory(state: AttestationState, a: AttestationRecord): boolean {
  if (state.maxTarget === null || state.maxSource === null) return false;
  return a.target <= state.maxTarget || a.source < state.maxSource;
}

/**
 * EIP-3076 for attestations, complete strategy: source <= target, no double vote (a NULL root conflicts
 * with everything), no surround in either direction, source not below the low source, target not below
 * the low target and at the low target only a repeat (conditions 3-5). `history` must hold every stored
 * record that shares the target, has a larger target, or has a larger source, when attestationNeedsHistory.
 */
export function checkAttestation(
  incoming: AttestationRecord,
  state: AttestationState,
  history: readonly AttestationRecord[],
): RuleResult {
  const { source, target } = incoming;
  if (source > target)
    return refuse({ code: ProtectionErrorCode.AttestationSourceAfterTarget, incoming, previous: null });

  const atTarget = history.length === 0 ? history : history.filter((r) => r.target === target);
  const doubleVote = atTarget.find((r) => r.source !== source || !bytesEqual(r.signingRoot, incoming.signingRoot));
  if (doubleVote !== undefined) {
    return refuse({ code: ProtectionErrorCode.AttestationDoubleVote, incoming, previous: doubleVote });
  }
  const surrounded = history.find((r) => r.source < source && r.target > target);
  if (surrounded !== undefined) {
    return refuse({ code: ProtectionErrorCode.AttestationSurrounded, incoming, previous: surrounded });
  }
  const surrounding = history.find((r) => r.source > source && r.target < target);
  if (surrounding !== undefined) {
    return refuse({ code: ProtectionErrorCode.AttestationSurrounding, incoming, previous: surrounding });
  }
  if (state.lowSource !== null && source < state.lowSource) {
    return refuse({
      code: ProtectionErrorCode.AttestationSourceBelowLowWatermark,
      incoming,
      previous: { lowSource: state.lowSource },
    });
  }
  const isRepeat = atTarget.length > 0;
  if (state.lowTarget !== null && (target < state.lowTarget || (target === state.lowTarget && !isRepeat))) {
    return refuse({
      code: ProtectionErrorCode.AttestationTargetBelowLowWatermark,
      incoming,
      previous: { lowTarget: state.lowTarget },
    });
  }
  return isRepeat ? REPEAT : INSERT;
}

export function applyAttestation(state: AttestationState, a: AttestationRecord): AttestationState {
  return {
    lowSource: state.lowSource ?? a.source,
    lowTarget: state.lowTarget ?? a.target,
    maxSource: state.maxSource === null ? a.source : maxBig(state.maxSource, a.source),
    maxTarget: state.maxTarget === null ? a.target : maxBig(state.maxTarget, a.target),
  };
}

const INSERT: RuleResult = Object.freeze({ result: "insert" });
const REPEAT: RuleResult = Object.freeze({ result: "repeat" });

function refuse(refusal: ProtectionRefusal): RuleResult {
  return { result: "refuse", refusal };
}
