import { bytesEqual } from "../../util/hex.js";
import { maxBig } from "../../util/u64.js";
import { ProtectionErrorCode, type ProtectionRefusal } from "./protectionErrors.js";
import type { BlockRecord, BlockState } from "./protectionTypes.js";

export type RuleResult = { result: "insert" } | { result: "repeat" } | { result: "refuse"; refusal: ProtectionRefusal };

/**
 * Whether deciding this slot needs the stored records at that slot. A slot above every slot signed
 * so far can conflict with nothing, which is the common case and costs one state row.
 */
export function blockNeedsHistory(state: BlockState, slot: bigint): boolean {
  return state.maxSlot !== null && slot <= state.maxSlot;
}

/**
 * EIP-3076 for blocks: no two different blocks at one slot (a NULL root conflicts with everything),
 * nothing below the low watermark, and at the low watermark only a repeat (condition 2).
 * `atSlot` must hold every stored record at `incoming.slot` when blockNeedsHistory is true.
 */
export function checkBlock(incoming: BlockRecord, state: BlockState, atSlot: readonly BlockRecord[]): RuleResult {
  if (state.lowSlot !== null && incoming.slot < state.lowSlot) {
    return belowWatermark(incoming, state.lowSlot);
  }
  const same = atSlot.filter((r) => r.slot === incoming.slot);
  const conflict = same.find((r) => !bytesEqual(r.signingRoot, incoming.signingRoot));
  if (conflict !== undefined) {
    return {
      result: "refuse",
      refusal: { code: ProtectionErrorCode.BlockDoubleProposal, incoming, previous: conflict },
    };
  }
  if (same.length > 0) return { result: "repeat" };
  if (state.lowSlot !== null && incoming.slot === state.lowSlot) return belowWatermark(incoming, state.lowSlot);
  return { result: "insert" };
}

export function applyBlock(state: BlockState, incoming: BlockRecord): BlockState {
  return {
    lowSlot: state.lowSlot ?? incoming.slot,
    maxSlot: state.maxSlot === null ? incoming.slot : maxBig(state.maxSlot, incoming.slot),
  };
}

function belowWatermark(incoming: BlockRecord, lowSlot: bigint): RuleResult {
  return {
    result: "refuse",
    refusal: { code: ProtectionErrorCode.BlockBelowLowWatermark, incoming, previous: { lowSlot } },
  };
}
