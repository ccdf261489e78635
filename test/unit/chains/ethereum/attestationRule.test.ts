import { describe, expect, it } from "vitest";
import {
  applyAttestation,
  attestationNeedsHistory,
  checkAttestation,
} from "../../../../src/chains/ethereum/attestationRule.js";
import { ProtectionErrorCode as C } from "../../../../src/chains/ethereum/protectionErrors.js";
import {
  type AttestationRecord,
  type AttestationState,
  EMPTY_ATTESTATION_STATE,
} from "../../../../src/chains/ethereum/protectionTypes.js";

const R = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const a = (source: number, target: number, root: number | null): AttestationRecord => ({
  source: BigInt(source),
  target: BigInt(target),
  signingRoot: root === null ? null : R(root),
});

function replay(history: AttestationRecord[]): AttestationState {
  return history.reduce(applyAttestation, EMPTY_ATTESTATION_STATE);
}

describe("EIP-3076 attestation rule", () => {
  // [name, history, incoming, expected]; surround cases follow consensus-specs is_slashable_attestation_data
  const cases: [string, AttestationRecord[], AttestationRecord, "insert" | "repeat" | C][] = [
    ["first attestation", [], a(0, 1, 1), "insert"],
    ["genesis 0->0", [], a(0, 0, 1), "insert"],
    ["next epoch", [a(1, 2, 1)], a(2, 3, 2), "insert"],
    ["source after target", [], a(5, 4, 1), C.AttestationSourceAfterTarget],
    ["double vote, other root", [a(1, 2, 1)], a(1, 2, 2), C.AttestationDoubleVote],
    ["double vote, other source", [a(1, 2, 1)], a(0, 2, 1), C.AttestationDoubleVote],
    ["double vote against unknown root", [a(1, 2, null)], a(1, 2, 1), C.AttestationDoubleVote],
    ["unknown roots never repeat", [a(1, 2, null)], a(1, 2, null), C.AttestationDoubleVote],
    ["repeat", [a(1, 2, 1)], a(1, 2, 1), "repeat"],
    ["zero root recorded by signing repeats", [a(1, 2, 0)], a(1, 2, 0), "repeat"],
    ["surrounds an earlier vote", [a(3, 4, 1)], a(2, 5, 2), C.AttestationSurrounding],
    ["surrounded by an earlier vote", [a(2, 5, 1)], a(3, 4, 2), C.AttestationSurrounded],
    ["surrounded, vote after a later one", [a(1, 10, 1), a(10, 11, 2)], a(2, 9, 3), C.AttestationSurrounded],
    [
      "same source, lower target: below the lowest target (condition 5)",
      [a(2, 5, 1)],
      a(2, 4, 2),
      C.AttestationTargetBelowLowWatermark,
    ],
    ["lower source and higher target surrounds", [a(5, 6, 1), a(6, 7, 2)], a(4, 8, 3), C.AttestationSurrounding],
    ["below the lowest target", [a(5, 6, 1), a(6, 7, 2)], a(5, 5, 3), C.AttestationTargetBelowLowWatermark],
    ["at the lowest target, not a repeat", [a(5, 6, 1)], a(6, 6, 3), C.AttestationDoubleVote],
    ["gap between targets is allowed", [a(1, 2, 1), a(2, 8, 2)], a(2, 5, 3), "insert"],
    ["source equal to target", [a(1, 2, 1)], a(3, 3, 2), "insert"],
  ];
  for (const [name, history, incoming, want] of cases) {
    it(name, () => {
      const res = checkAttestation(incoming, replay(history), history);
      if (want === "insert" || want === "repeat") expect(res).toEqual({ result: want });
      else {
        expect(res.result).toBe("refuse");
        if (res.result === "refuse") expect(res.refusal.code).toBe(want);
      }
    });
  }

  it("low watermarks without records (after pruning) still refuse", () => {
    const state: AttestationState = { lowSource: 10n, lowTarget: 20n, maxSource: 30n, maxTarget: 31n };
    expect(checkAttestation(a(9, 40, 1), state, []).result).toBe("refuse");
    expect(checkAttestation(a(10, 19, 1), state, []).result).toBe("refuse");
    expect(checkAttestation(a(10, 20, 1), state, [])).toMatchObject({
      result: "refuse",
      refusal: { code: C.AttestationTargetBelowLowWatermark },
    });
  });

  it("needs history unless the target is new and the source not lower than any source", () => {
    const s = replay([a(3, 4, 1), a(4, 5, 2)]);
    expect(attestationNeedsHistory(s, a(5, 6, 3))).toBe(false);
    expect(attestationNeedsHistory(s, a(4, 6, 3))).toBe(false);
    expect(attestationNeedsHistory(s, a(3, 6, 3))).toBe(true);
    expect(attestationNeedsHistory(s, a(4, 5, 3))).toBe(true);
    expect(attestationNeedsHistory(EMPTY_ATTESTATION_STATE, a(0, 0, 1))).toBe(false);
  });

  it("the fast path agrees with the full rule on random histories", () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const history: AttestationRecord[] = [];
      let state = EMPTY_ATTESTATION_STATE;
      for (let i = 0; i < 6; i++) {
        const t = rnd(20);
        const s = rnd(t + 1);
        const rec = a(s, t, rnd(3));
        const res = checkAttestation(rec, state, history);
        if (res.result === "insert") {
          history.push(rec);
          state = applyAttestation(state, rec);
        }
      }
      const t = rnd(22);
      const inc = a(rnd(t + 2), t, rnd(3));
      if (!attestationNeedsHistory(state, inc)) {
        expect(checkAttestation(inc, state, [])).toEqual(checkAttestation(inc, state, history));
      }
    }
  });
});
