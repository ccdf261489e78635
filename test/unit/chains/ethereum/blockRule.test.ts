import { describe, expect, it } from "vitest";
import { applyBlock, blockNeedsHistory, checkBlock } from "../../../../src/chains/ethereum/blockRule.js";
import { ProtectionErrorCode } from "../../../../src/chains/ethereum/protectionErrors.js";
import type { BlockRecord, BlockState } from "../../../../src/chains/ethereum/protectionTypes.js";

const R = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const b = (slot: number, root: number | null): BlockRecord => ({
  slot: BigInt(slot),
  signingRoot: root === null ? null : R(root),
});

/** Runs records through the rule as the engine does: state + every stored record. */
function replay(history: BlockRecord[]): { state: BlockState; stored: BlockRecord[] } {
  let state: BlockState = { lowSlot: null, maxSlot: null };
  for (const r of history) state = applyBlock(state, r);
  return { state, stored: history };
}

describe("EIP-3076 block rule", () => {
  const cases: [string, BlockRecord[], BlockRecord, "insert" | "repeat" | ProtectionErrorCode][] = [
    ["first block", [], b(10, 1), "insert"],
    ["higher slot", [b(10, 1)], b(11, 2), "insert"],
    ["same slot, same root: repeat", [b(10, 1)], b(10, 1), "repeat"],
    ["same slot, other root", [b(10, 1)], b(10, 2), ProtectionErrorCode.BlockDoubleProposal],
    ["same slot, stored root unknown", [b(10, null)], b(10, 1), ProtectionErrorCode.BlockDoubleProposal],
    ["same slot, incoming root unknown", [b(10, 1)], b(10, null), ProtectionErrorCode.BlockDoubleProposal],
    ["both roots unknown never repeat", [b(10, null)], b(10, null), ProtectionErrorCode.BlockDoubleProposal],
    ["zero root is a root, not unknown", [b(10, 0)], b(10, 0), "repeat"],
    ["below the lowest slot", [b(10, 1), b(20, 2)], b(5, 3), ProtectionErrorCode.BlockBelowLowWatermark],
    ["gap between records is allowed (complete DB)", [b(10, 1), b(20, 2)], b(15, 3), "insert"],
    ["lowest slot itself, repeat", [b(10, 1), b(20, 2)], b(10, 1), "repeat"],
  ];
  for (const [name, history, incoming, want] of cases) {
    it(name, () => {
      const { state, stored } = replay(history);
      const res = checkBlock(incoming, state, stored);
      if (want === "insert" || want === "repeat") expect(res.result).toBe(want);
      else {
        expect(res.result).toBe("refuse");
        if (res.result === "refuse") expect(res.refusal.code).toBe(want);
      }
    });
  }

  it("needs history only at or below the highest slot", () => {
    const { state } = replay([b(10, 1), b(20, 2)]);
    expect(blockNeedsHistory(state, 21n)).toBe(false);
    expect(blockNeedsHistory(state, 20n)).toBe(true);
    expect(blockNeedsHistory(state, 15n)).toBe(true);
    expect(blockNeedsHistory({ lowSlot: null, maxSlot: null }, 0n)).toBe(false);
  });

  it("a watermark with no record at it refuses everything not above it", () => {
    const res = checkBlock(b(30, 1), { lowSlot: 30n, maxSlot: 30n }, []);
    expect(res.result === "refuse" && res.refusal.code).toBe(ProtectionErrorCode.BlockBelowLowWatermark);
  });

  it("refusals carry the incoming and the previous record", () => {
    const res = checkBlock(b(10, 2), replay([b(10, 1)]).state, [b(10, 1)]);
    expect(res.result).toBe("refuse");
    if (res.result === "refuse") {
      expect(res.refusal.incoming).toEqual(b(10, 2));
      expect(res.refusal.previous).toEqual(b(10, 1));
    }
  });
});
