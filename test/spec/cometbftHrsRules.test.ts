import { describe, expect, it } from "vitest";
import { CometSignErrorCode, CometWireErrorCode } from "../../src/chains/cometbft/errors.js";
import { decideHrs, type SignState } from "../../src/chains/cometbft/hrsRule.js";
import { proposalSignBytes, voteSignBytes } from "../../src/chains/cometbft/signBytes.js";
import {
  type BlockId,
  emptyProposal,
  emptyVote,
  type Hrs,
  type Timestamp,
  type Vote,
  ZERO_BLOCK_ID,
} from "../../src/chains/cometbft/types.js";
import { needsExtensionSignature, validateProposal, validateVote } from "../../src/chains/cometbft/validate.js";
import { cometVector, sha256 } from "../utils/cometVectors.js";
import { withVectors } from "../utils/vectors.js";

interface Scenario {
  name: string;
  state_before: { height: number; round: number; step: number; signbytes_of?: string };
  request: {
    kind: string;
    height: number;
    round: number;
    block?: string | undefined;
    timestamp?: string | undefined;
    extension?: string;
  };
  expect: string;
}

const CHAIN = "test-chain";
const T0: Timestamp = { seconds: 1_700_000_000n, nanos: 123_456_789 };
const STORED_SIG = new Uint8Array(64).fill(7);

function block(name: string | undefined): BlockId {
  if (name === undefined || name === "nil") return ZERO_BLOCK_ID;
  return { hash: sha256(name), partSetHeader: { total: 1, hash: sha256(`${name}-parts`) } };
}

function time(name: string | undefined): Timestamp {
  if (name === "t0+1ms") return { seconds: T0.seconds, nanos: T0.nanos + 1_000_000 };
  return T0;
}

/** "prevote 10/1 B1 t0" / "precommit 10/1 nil" / "proposal 10/1" → request fields. */
function parseDescription(s: string): Scenario["request"] {
  const [kind, hr, blk, ts] = s.split(" ");
  const [h, r] = hr!.split("/").map(Number);
  return { kind: kind!, height: h!, round: r!, block: blk, timestamp: ts };
}

function signBytesAndHrs(req: Scenario["request"]): { bytes: Uint8Array; hrs: Hrs; vote: Vote | null } {
  if (req.kind === "proposal") {
    const p = {
      ...emptyProposal(),
      type: 32,
      height: BigInt(req.height),
      round: req.round,
      polRound: -1,
      blockId: block(req.block ?? "B1"),
      timestamp: time(req.timestamp),
    };
    return { bytes: proposalSignBytes(CHAIN, p), hrs: validateProposal(p), vote: null };
  }
  const v: Vote = {
    ...emptyVote(),
    type: req.kind === "prevote" ? 1 : 2,
    height: BigInt(req.height),
    round: req.round,
    blockId: block(req.block),
    timestamp: time(req.timestamp),
    extension: req.extension === undefined ? new Uint8Array(0) : new TextEncoder().encode(req.extension),
  };
  return { bytes: voteSignBytes(CHAIN, v), hrs: validateVote(v), vote: v };
}

function expectedError(text: string): string {
  if (text.includes("unexpected vote extension")) return CometWireErrorCode.InvalidRequest;
  if (text.includes("round regression")) return CometSignErrorCode.RoundRegression;
  if (text.includes("height regression")) return CometSignErrorCode.HeightRegression;
  if (text.includes("step regression")) return CometSignErrorCode.StepRegression;
  if (text.includes("conflicting data")) return CometSignErrorCode.ConflictingData;
  if (text.includes("no SignBytes")) return CometSignErrorCode.NoSignBytes;
  throw new Error(`unmapped expectation: ${text}`);
}

withVectors("HRS rules", { vectors: ["cometbft/privval_hrs_rules.json"] }, () => {
  const file = cometVector<{ scenarios: Scenario[] }>("privval_hrs_rules.json");
  describe("HRS rules (vectors/cometbft/privval_hrs_rules.json)", () => {
    it("has every scenario", () => expect(file.scenarios.length).toBe(17));

    for (const sc of file.scenarios) {
      it(sc.name, () => {
        const sb = sc.state_before;
        const stored = sb.signbytes_of === undefined ? null : signBytesAndHrs(parseDescription(sb.signbytes_of)).bytes;
        const state: SignState = {
          hrs: { height: BigInt(sb.height), round: sb.round, step: sb.step },
          signBytes: stored,
          signature: stored === null ? null : STORED_SIG,
        };
        const outcome = ((): { code: string } | (ReturnType<typeof decideHrs> & { vote: Vote | null; hrs: Hrs }) => {
          try {
            const r = signBytesAndHrs(sc.request);
            return { ...decideHrs(state, r.hrs, r.bytes), vote: r.vote, hrs: r.hrs };
          } catch (e) {
            return { code: (e as { code: string }).code };
          }
        })();

        if (sc.expect.startsWith("error")) {
          const code =
            "code" in outcome ? outcome.code : outcome.result === "refuse" ? outcome.refusal.code : outcome.result;
          expect(code).toBe(expectedError(sc.expect));
          return;
        }
        if ("code" in outcome) throw new Error(`unexpected error ${outcome.code}`);
        if (sc.expect.startsWith("sign")) {
          expect(outcome.result).toBe("sign");
          const m = /state -> (\d+)\/(\d+)\/(\d+)/.exec(sc.expect);
          if (m)
            expect([outcome.hrs.height, outcome.hrs.round, outcome.hrs.step]).toEqual([
              BigInt(m[1]!),
              Number(m[2]),
              Number(m[3]),
            ]);
          if (sc.expect.includes("NO extension")) expect(needsExtensionSignature(outcome.vote!)).toBe(false);
          if (sc.expect.includes("AND extension")) expect(needsExtensionSignature(outcome.vote!)).toBe(true);
          return;
        }
        // "return stored signature …"
        expect(outcome.result).toBe("repeat");
        if (outcome.result !== "repeat") return;
        expect(outcome.signature).toEqual(STORED_SIG);
        if (sc.expect.includes("AND timestamp t0")) expect(outcome.timestamp).toEqual(T0);
        else expect(outcome.timestamp).toBeNull();
        if (sc.expect.includes("NEW extension_signature")) expect(needsExtensionSignature(outcome.vote!)).toBe(true);
      });
    }
  });
});
