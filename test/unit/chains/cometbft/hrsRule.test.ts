import { describe, expect, it } from "vitest";
import { CometSignErrorCode as C } from "../../../../src/chains/cometbft/errors.js";
import { decideHrs, INITIAL_SIGN_STATE, type SignState } from "../../../../src/chains/cometbft/hrsRule.js";
import { decodeCanonical, differOnlyByTimestamp, encodeCanonical } from "../../../../src/chains/cometbft/signBytes.js";
import { Step } from "../../../../src/chains/cometbft/types.js";
import { T0, testKey, voteRequest } from "../../../utils/comet.js";

const key = testKey("rule");
const SIG = new Uint8Array(64).fill(3);
const at = (height: number, round: number, block: string, type: "prevote" | "precommit" = "prevote", ts = T0) =>
  voteRequest(key, type, height, round, block, ts);
const stateOf = (r: ReturnType<typeof at>): SignState => ({ hrs: r.hrs, signBytes: r.signBytes, signature: SIG });

describe("decideHrs (table)", () => {
  const last = stateOf(at(10, 2, "B1", "prevote"));
  const later = { seconds: T0.seconds, nanos: T0.nanos + 1 };
  const table: [string, ReturnType<typeof at>, string][] = [
    ["higher height, lower round", at(11, 0, "B9"), "sign"],
    ["same height, higher round", at(10, 3, "B9"), "sign"],
    ["same round, higher step", at(10, 2, "B9", "precommit"), "sign"],
    ["identical", at(10, 2, "B1"), "repeat"],
    ["timestamp only", at(10, 2, "B1", "prevote", later), "repeat+ts"],
    ["other block", at(10, 2, "B2"), C.ConflictingData],
    ["nil instead of block", at(10, 2, "nil"), C.ConflictingData],
    ["lower height", at(9, 9, "B1"), C.HeightRegression],
    ["lower round", at(10, 1, "B1"), C.RoundRegression],
    ["other chain id at same HRS", voteRequest(key, "prevote", 10, 2, "B1", T0, "other"), C.ConflictingData],
  ];
  for (const [name, req, want] of table) {
    it(name, () => {
      const d = decideHrs(last, req.hrs, req.signBytes);
      const got =
        d.result === "refuse" ? d.refusal.code : d.result === "repeat" && d.timestamp !== null ? "repeat+ts" : d.result;
      expect(got).toBe(want);
      if (d.result === "refuse") expect(d.refusal.previous).toEqual(last.hrs);
      if (d.result === "repeat" && d.timestamp !== null) expect(d.timestamp).toEqual(T0);
    });
  }

  it("step regression and the fresh state", () => {
    const pc = stateOf(at(5, 0, "B1", "precommit"));
    const r = at(5, 0, "B1", "prevote");
    expect(decideHrs(pc, r.hrs, r.signBytes)).toMatchObject({ result: "refuse", refusal: { code: C.StepRegression } });
    expect(decideHrs(INITIAL_SIGN_STATE, r.hrs, r.signBytes).result).toBe("sign");
  });

  it("same HRS without stored sign bytes is refused", () => {
    const r = at(7, 0, "B1");
    const imported: SignState = { hrs: { height: 7n, round: 0, step: Step.Prevote }, signBytes: null, signature: null };
    expect(decideHrs(imported, r.hrs, r.signBytes)).toMatchObject({ refusal: { code: C.NoSignBytes } });
  });

  it("timestamp comparison refuses stored bytes that are not canonical", () => {
    const r = at(8, 0, "B1");
    const c = decodeCanonical(r.signBytes);
    expect(encodeCanonical(c)).toEqual(r.signBytes);
    // a redundant zero-valued field is valid protobuf but not canonical: never treated as "same but for the time"
    const body = r.signBytes.subarray(1);
    const padded = Uint8Array.from([body.length + 2, ...body, 0x08, 0x00]);
    expect(differOnlyByTimestamp(padded, at(8, 0, "B1", "prevote", { seconds: 1n, nanos: 0 }).signBytes)).toBeNull();
  });
});
