import { describe, expect, it } from "vitest";
import { SubstrateErrorCode as C } from "../../../../src/chains/substrate/errors.js";
import {
  checkBabe,
  checkBeefy,
  checkGrandpa,
  checkPara,
  type ParaVoteState,
} from "../../../../src/chains/substrate/rules.js";
import { type GrandpaRecord, GrandpaStage } from "../../../../src/chains/substrate/types.js";

const h = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const vote = (stage: GrandpaStage, target: number, round = 5n, setId = 2n, number = 100n): GrandpaRecord => ({
  kind: "grandpa",
  stage,
  targetHash: h(target),
  targetNumber: number,
  round,
  setId,
});
const outcome = (r: ReturnType<typeof checkGrandpa>): string => (r.result === "refuse" ? r.refusal.code : r.result);

describe("GRANDPA rule: (previous at the same set/round/stage, incoming, low set id) -> outcome", () => {
  const P = GrandpaStage.Prevote;
  const PC = GrandpaStage.Precommit;
  const PP = GrandpaStage.PrimaryPropose;
  it.each([
    ["nothing stored", null, vote(P, 1), null, "insert"],
    ["same target again", vote(P, 1), vote(P, 1), null, "repeat"],
    ["other hash", vote(P, 1), vote(P, 2), null, C.GrandpaEquivocation],
    ["same hash, other number", vote(P, 1), vote(P, 1, 5n, 2n, 101n), null, C.GrandpaEquivocation],
    ["precommit other target", vote(PC, 1), vote(PC, 2), null, C.GrandpaEquivocation],
    [
      "stored NULL target (import conflict)",
      { ...vote(P, 1), targetHash: null, targetNumber: null },
      vote(P, 1),
      null,
      C.GrandpaEquivocation,
    ],
    ["primary propose is never refused", vote(PP, 1), vote(PP, 2), null, "insert"],
    ["below the low set id", null, vote(P, 1, 5n, 2n), 3n, C.BelowWatermark],
    ["at the low set id", null, vote(P, 1, 5n, 3n), 3n, "insert"],
    [
      "u64 extremes",
      vote(P, 1, (1n << 64n) - 1n, (1n << 64n) - 1n),
      vote(P, 2, (1n << 64n) - 1n, (1n << 64n) - 1n),
      null,
      C.GrandpaEquivocation,
    ],
  ] as const)("%s", (_, stored, incoming, low, want) => {
    expect(outcome(checkGrandpa(incoming, stored, low))).toBe(want);
  });
});

describe("BABE rule", () => {
  const blk = (slot: bigint, hash: number | null) => ({
    kind: "babe" as const,
    slot,
    preHash: hash === null ? null : h(hash),
    authorityIndex: 1,
  });
  it.each([
    ["first header of a slot", null, blk(10n, 1), null, "insert"],
    ["same header again", blk(10n, 1), blk(10n, 1), null, "repeat"],
    ["other header, same slot", blk(10n, 1), blk(10n, 2), null, C.BabeEquivocation],
    ["stored NULL pre-hash", blk(10n, null), blk(10n, 1), null, C.BabeEquivocation],
    ["below the low slot", null, blk(9n, 1), 10n, C.BelowWatermark],
  ] as const)("%s", (_, stored, incoming, low, want) => {
    expect(outcome(checkBabe(incoming, stored, low))).toBe(want);
  });
});

describe("parachain dispute rule", () => {
  const rec = (statement: "seconded" | "valid" | "invalid", session: bigint | null = 7n) => ({
    kind: "para" as const,
    candidateHash: h(1),
    statement,
    session,
  });
  const state = (side: "valid" | "invalid" | null, ...statements: string[]): ParaVoteState => ({
    side,
    statements: new Set(statements),
    session: 7n,
  });
  it.each([
    ["first vote", null, rec("valid"), null, "insert"],
    ["seconded then valid: same side", state("valid", "seconded"), rec("valid"), null, "insert"],
    ["valid again", state("valid", "valid"), rec("valid"), null, "repeat"],
    ["valid then invalid", state("valid", "valid"), rec("invalid"), null, C.ParaDoubleVote],
    ["invalid then valid", state("invalid", "invalid"), rec("valid"), null, C.ParaDoubleVote],
    ["seconded then invalid", state("valid", "seconded"), rec("invalid"), null, C.ParaDoubleVote],
    ["both sides stored (import)", state(null, "valid", "invalid"), rec("valid"), null, C.ParaDoubleVote],
    ["below the low session", null, rec("valid", 6n), 7n, C.BelowWatermark],
    // a watermark may have pruned its candidate's votes (model-based suite, test/model/substrate)
    ["no session known: refused once there is a session watermark", null, rec("valid", null), 7n, C.BelowWatermark],
    ["no session known, no watermark: decided", null, rec("valid", null), null, "insert"],
  ] as const)("%s", (_, stored, incoming, low, want) => {
    expect(outcome(checkPara(incoming, stored, low))).toBe(want);
  });
});

describe("BEEFY rule", () => {
  const v = (block: bigint, hash: number, setId = 3n) => ({
    kind: "beefy" as const,
    setId,
    blockNumber: block,
    commitmentHash: h(hash),
  });
  it.each([
    ["first vote", null, v(100n, 1), null, "insert"],
    ["same commitment", v(100n, 1), v(100n, 1), null, "repeat"],
    ["other commitment, same block", v(100n, 1), v(100n, 2), null, C.BeefyDoubleVote],
    ["below the low set id", null, v(100n, 1, 2n), 3n, C.BelowWatermark],
  ] as const)("%s", (_, stored, incoming, low, want) => {
    expect(outcome(checkBeefy(incoming, stored, low))).toBe(want);
  });
});
