import { describe, expect, it } from "vitest";
import { CometWireErrorCode } from "../../../../src/chains/cometbft/errors.js";
import { emptyProposal, type Proposal, Step, type Vote, ZERO_BLOCK_ID } from "../../../../src/chains/cometbft/types.js";
import { needsExtensionSignature, validateProposal, validateVote } from "../../../../src/chains/cometbft/validate.js";
import { blockId, vote } from "../../../utils/comet.js";

const invalid = { code: CometWireErrorCode.InvalidRequest };
const ext = new TextEncoder().encode("e");

describe("validateVote", () => {
  it("returns the FilePV step of prevotes and precommits", () => {
    expect(validateVote(vote("prevote", 5, 1, "B"))).toEqual({ height: 5n, round: 1, step: Step.Prevote });
    expect(validateVote(vote("precommit", 5, 1, "nil"))).toEqual({ height: 5n, round: 1, step: Step.Precommit });
  });

  const cases: [string, Vote][] = [
    ["type 0", { ...vote("prevote", 5, 0, "B"), type: 0 }],
    ["type 32 as a vote", { ...vote("prevote", 5, 0, "B"), type: 32 }],
    ["height 0", vote("prevote", 0, 0, "B")],
    ["negative height", vote("prevote", -1n, 0, "B")],
    ["negative round", vote("prevote", 5, -1, "B")],
    ["31-byte hash", { ...vote("prevote", 5, 0, "B"), blockId: { ...blockId("B"), hash: new Uint8Array(31) } }],
    [
      "hash without parts",
      {
        ...vote("prevote", 5, 0, "B"),
        blockId: { hash: blockId("B").hash, partSetHeader: ZERO_BLOCK_ID.partSetHeader },
      },
    ],
    ["nanos out of range", { ...vote("prevote", 5, 0, "B"), timestamp: { seconds: 1n, nanos: 1_000_000_000 } }],
    ["extension on a prevote", { ...vote("prevote", 5, 0, "B"), extension: ext }],
    ["extension on a nil precommit", { ...vote("precommit", 5, 0, "nil"), extension: ext }],
  ];
  for (const [name, v] of cases)
    it(`refuses ${name}`, () => expect(() => validateVote(v)).toThrow(expect.objectContaining(invalid)));

  it("extension signatures only for non-nil precommits", () => {
    expect(needsExtensionSignature(vote("precommit", 5, 0, "B"))).toBe(true);
    expect(needsExtensionSignature(vote("precommit", 5, 0, "nil"))).toBe(false);
    expect(needsExtensionSignature(vote("prevote", 5, 0, "B"))).toBe(false);
  });
});

describe("validateProposal", () => {
  const good: Proposal = { ...emptyProposal(), type: 32, height: 9n, round: 2, polRound: -1, blockId: blockId("B") };
  it("accepts pol_round -1 .. round-1", () => {
    expect(validateProposal(good)).toEqual({ height: 9n, round: 2, step: Step.Propose });
    expect(validateProposal({ ...good, polRound: 1 }).step).toBe(Step.Propose);
  });
  const cases: [string, Proposal][] = [
    ["wrong type", { ...good, type: 1 }],
    ["pol_round -2", { ...good, polRound: -2 }],
    ["pol_round = round", { ...good, polRound: 2 }],
    ["nil block", { ...good, blockId: ZERO_BLOCK_ID }],
  ];
  for (const [name, p] of cases)
    it(`refuses ${name}`, () => expect(() => validateProposal(p)).toThrow(expect.objectContaining(invalid)));
});
