import { describe, expect, it } from "vitest";
import { type ChainTime, nextCheckTimeMs } from "../../../../src/chains/ethereum/chainTime.js";
import {
  applyRound,
  type DoppelgangerState,
  type LivenessObservation,
  registerKey,
  roundEpochs,
  skipForRestart,
} from "../../../../src/chains/ethereum/doppelgangerRules.js";

// Mainnet timing: 12 s slots, 32 slots per epoch.
const T: ChainTime = { genesisMs: 1_600_000_000_000, slotMs: 12_000, slotsPerEpoch: 32n };
const at = (epoch: number, slot: number, fraction = 0.75): number =>
  T.genesisMs + (epoch * 32 + slot + fraction) * T.slotMs;
const LAST = 31;

type Obs = "silent" | "live" | "ours";
interface Round {
  /** [epoch, slot in epoch, fraction of the slot] of the request. */
  at: [number, number, number?];
  /** Slots between request and answer (1 = the answer came in the next slot: late). */
  lateBy?: number;
  /** What the node said per epoch; an epoch left out was not answered. */
  said: Record<number, Obs>;
}

function run(registeredAt: number, epochs: number, rounds: Round[]): DoppelgangerState {
  let s = registerKey(BigInt(registeredAt), epochs);
  for (const r of rounds) {
    const requestMs = at(r.at[0], r.at[1], r.at[2] ?? 0.75);
    const observations: LivenessObservation[] = Object.entries(r.said).map(([e, o]) => ({
      epoch: BigInt(e),
      live: o !== "silent",
      ours: o === "ours",
    }));
    s = applyRound(s, { requestMs, responseMs: requestMs + (r.lateBy ?? 0) * T.slotMs, observations }, T);
  }
  return s;
}

/** Every slot of an epoch, all silent (Lighthouse polls every slot). */
const silentEpoch = (e: number): Round[] =>
  Array.from({ length: 32 }, (_, k) => ({
    at: [e, k] as [number, number],
    said: { [e - 1]: "silent", [e]: "silent" },
  }));

describe("doppelganger rules (per-epoch tables, as Lighthouse and Lodestar)", () => {
  it("a key registered at or before genesis is verified at once (nothing to watch)", () => {
    expect(registerKey(0n, 1)).toMatchObject({ status: "verified", reason: "genesis", remainingEpochs: 0 });
    expect(registerKey(-1n, 1).status).toBe("verified");
    expect(registerKey(1n, 1)).toMatchObject({ status: "unverified", nextCheckEpoch: 2n, remainingEpochs: 1 });
  });

  const cases: [string, number, number, Round[], Partial<DoppelgangerState>][] = [
    [
      "registered in E: silent E+1 and E+2 -> verified at 3/4 of the last slot of E+2",
      10,
      1,
      [...silentEpoch(11), ...silentEpoch(12)],
      { status: "verified", checkedEpochs: 1, nextCheckEpoch: 12n, remainingEpochs: 0 },
    ],
    [
      "the last slot of E+2 asked at half the slot does not count (too early)",
      10,
      1,
      [{ at: [12, LAST, 0.5], said: { 11: "silent", 12: "silent" } }],
      { status: "unverified", remainingEpochs: 1 },
    ],
    [
      "the previous epoch asked before the last slot does not count",
      10,
      1,
      [{ at: [12, LAST - 1], said: { 11: "silent", 12: "silent" } }],
      { status: "unverified", checkedEpochs: 0 },
    ],
    [
      "the start epoch is never counted (it may hold our own previous process)",
      10,
      1,
      [{ at: [11, LAST], said: { 10: "silent", 11: "silent" } }],
      { status: "unverified", checkedEpochs: 0, nextCheckEpoch: 11n },
    ],
    [
      "live in the start epoch is ignored (restart inside one epoch)",
      10,
      1,
      [
        { at: [10, 5], said: { 9: "live", 10: "live" } },
        { at: [11, 3], said: { 10: "live", 11: "silent" } },
      ],
      { status: "unverified" },
    ],
    [
      "live in E+1 (current epoch) -> detected",
      10,
      1,
      [{ at: [11, 3], said: { 10: "silent", 11: "live" } }],
      { status: "doppelganger_detected", detectedEpoch: 11n },
    ],
    [
      "live in E+1 seen as the previous epoch -> detected",
      10,
      1,
      [{ at: [12, 0], said: { 11: "live", 12: "silent" } }],
      { status: "doppelganger_detected", detectedEpoch: 11n },
    ],
    [
      "live but explained by our own records: neither detected nor counted",
      10,
      1,
      [{ at: [12, LAST], said: { 11: "ours", 12: "silent" } }],
      { status: "unverified", checkedEpochs: 0, remainingEpochs: 1 },
    ],
    [
      "a late answer (next slot) never counts as silent",
      10,
      1,
      [{ at: [12, LAST], lateBy: 1, said: { 11: "silent", 12: "silent" } }],
      { status: "unverified", checkedEpochs: 0 },
    ],
    [
      "a late answer still detects",
      10,
      1,
      [{ at: [12, LAST], lateBy: 1, said: { 11: "silent", 12: "live" } }],
      { status: "doppelganger_detected", detectedEpoch: 12n },
    ],
    [
      "a failed query (no answer) gives no progress",
      10,
      1,
      [{ at: [12, LAST], said: {} }],
      { status: "unverified", checkedEpochs: 0 },
    ],
    [
      "an answer for the current epoch only gives no progress",
      10,
      1,
      [{ at: [12, LAST], said: { 12: "silent" } }],
      { status: "unverified", checkedEpochs: 0 },
    ],
    [
      "the last slot of E+2 failed: E+1 is lost, E+2 counts at the end of E+3",
      10,
      1,
      [
        { at: [12, LAST], said: {} },
        { at: [13, 0], said: { 12: "silent", 13: "silent" } },
        { at: [13, LAST], said: { 12: "silent", 13: "silent" } },
      ],
      { status: "verified", checkedEpochs: 1, nextCheckEpoch: 13n },
    ],
    [
      "two epochs configured: verified at the end of E+3",
      10,
      2,
      [...silentEpoch(11), ...silentEpoch(12), ...silentEpoch(13)],
      { status: "verified", checkedEpochs: 2, nextCheckEpoch: 13n },
    ],
    [
      "two epochs configured: one clean epoch is not enough",
      10,
      2,
      [...silentEpoch(11), ...silentEpoch(12)],
      { status: "unverified", checkedEpochs: 1, remainingEpochs: 1, nextCheckEpoch: 12n },
    ],
    [
      "an epoch is counted once, however often it is asked",
      10,
      3,
      [
        { at: [12, LAST], said: { 11: "silent", 12: "silent" } },
        { at: [12, LAST, 0.9], said: { 11: "silent", 12: "silent" } },
      ],
      { status: "unverified", checkedEpochs: 1, remainingEpochs: 2 },
    ],
    [
      "live after a clean epoch (twin started later) -> detected",
      10,
      2,
      [...silentEpoch(11), ...silentEpoch(12), { at: [13, 4], said: { 12: "silent", 13: "live" } }],
      { status: "doppelganger_detected", detectedEpoch: 13n, checkedEpochs: 1 },
    ],
    [
      "a detected key stays detected (silence afterwards changes nothing)",
      10,
      1,
      [{ at: [11, 3], said: { 11: "live" } }, ...silentEpoch(12), ...silentEpoch(13)],
      { status: "doppelganger_detected", detectedEpoch: 11n },
    ],
    [
      "a verified key is not checked any more (liveness afterwards is its own signing)",
      10,
      1,
      [...silentEpoch(11), ...silentEpoch(12), { at: [13, 3], said: { 12: "live", 13: "live" } }],
      { status: "verified" },
    ],
  ];
  for (const [name, reg, epochs, rounds, want] of cases) {
    it(name, () => expect(run(reg, epochs, rounds)).toMatchObject(want));
  }

  it("restart skip verifies an unverified key, never a detected one", () => {
    expect(skipForRestart(registerKey(10n, 1))).toMatchObject({ status: "verified", reason: "restart" });
    const detected = run(10, 1, [{ at: [11, 3], said: { 11: "live" } }]);
    expect(skipForRestart(detected).status).toBe("doppelganger_detected");
  });

  it("asks for the previous and the current epoch, never before genesis", () => {
    expect(roundEpochs(T, at(12, 5))).toEqual([11n, 12n]);
    expect(roundEpochs(T, at(0, 5))).toEqual([0n]);
    expect(roundEpochs(T, T.genesisMs - 1)).toEqual([]);
  });

  it("polls at three quarters of each slot", () => {
    expect(nextCheckTimeMs(T, at(12, 5, 0.1))).toBe(at(12, 5, 0.75));
    expect(nextCheckTimeMs(T, at(12, 5, 0.75))).toBe(at(12, 6, 0.75));
    expect(nextCheckTimeMs(T, T.genesisMs - 5000)).toBe(at(0, 0, 0.75));
  });
});
