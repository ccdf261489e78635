import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { serializeValidatorState, type ValidatorState } from "../../../../src/chains/cometbft/stateFile.js";
import { compareHrs } from "../../../../src/chains/cometbft/types.js";
import { FailoverError, FailoverErrorCode } from "../../../../src/failover/errors.js";
import {
  maxState,
  parseValidatorState,
  raiseStateFile,
  readStateFile,
  stateAfterHeight,
} from "../../../../src/failover/node/stateFile.js";
import { tempDir } from "../../../utils/stores.js";
import { loadVector, skipWithoutVectors } from "../../../utils/vectors.js";

const hrs = (height: number | bigint, round: number, step: number): ValidatorState => ({
  height: BigInt(height),
  round,
  step,
});

const FORMATS = { vectors: ["cometbft/priv_validator_state_formats.json"] };
/** The real juno-1 state file of the shared vectors (read only by the test that needs it). */
function realWorldState(): unknown {
  const formats = loadVector<Record<string, Record<string, unknown>>>("cometbft/priv_validator_state_formats.json");
  const stateSection = Object.entries(formats).find(([k]) => k.startsWith("priv_validator_state.json"))![1];
  return Object.entries(stateSection).find(([k]) => k.startsWith("real_world_example"))![1];
}

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});
function dir(): string {
  const t = tempDir("sg-state-");
  cleanup = t.cleanup;
  return t.dir;
}

function code(e: unknown): string {
  return e instanceof FailoverError ? e.code : String(e);
}

describe("priv_validator_state.json", () => {
  it("round-trips CometBFT's format (real juno-1 file from the shared vectors)", (ctx) => {
    skipWithoutVectors(ctx, FORMATS);
    const realState = realWorldState();
    const s = parseValidatorState(realState, "vector");
    expect(s.height).toBe(361402n);
    expect(s.step).toBe(3);
    expect(JSON.parse(serializeValidatorState(s))).toEqual(realState);
  });

  it("takes Horcrux's string round and a small numeric height, refuses the rest", () => {
    expect(parseValidatorState({ height: "5", round: "2", step: 1 }, "x")).toEqual(hrs(5, 2, 1));
    expect(parseValidatorState({ height: 1000, round: 0, step: 3 }, "x")).toEqual(hrs(1000, 0, 3));
    for (const bad of [
      { height: "-1", round: 0, step: 0 },
      { height: "9223372036854775808", round: 0, step: 0 },
      { height: 2 ** 60, round: 0, step: 0 },
      { height: "1", round: -1, step: 0 },
      { height: "1", round: 0, step: 4 },
      { height: "1", round: 0, step: 1, signature: "not base64!" },
      { height: "1", round: 0, step: 1, signbytes: "XYZ" },
      [],
      null,
    ]) {
      expect(() => parseValidatorState(bad, "x"), JSON.stringify(bad)).toThrowError(
        expect.objectContaining({ code: FailoverErrorCode.StateInvalid }),
      );
    }
  });

  it.each([
    [hrs(5, 0, 0), hrs(4, 9, 3), 1],
    [hrs(5, 1, 0), hrs(5, 0, 3), 1],
    [hrs(5, 1, 2), hrs(5, 1, 3), -1],
    [hrs(5, 1, 3), hrs(5, 1, 3), 0],
  ])("orders %o against %o by height, round, step", (a, b, want) => {
    expect(Math.sign(compareHrs(a, b))).toBe(want);
    expect(Math.sign(compareHrs(b, a))).toBe(want === 0 ? 0 : -want);
  });

  it("max rule: the highest of local, synced and chain + 1; a tie keeps the first (the current file)", () => {
    const local = { ...hrs(100, 0, 3), signature: "AA==" };
    const synced = hrs(120, 1, 2);
    const chain = stateAfterHeight(119n);
    expect(maxState([local, synced, chain])).toBe(synced);
    expect(maxState([local, null, stateAfterHeight(130n)])).toEqual(hrs(131, 0, 0));
    expect(maxState([local, hrs(100, 0, 3)])).toBe(local);
    expect(maxState([null, null])).toBeNull();
  });

  it("raises a stale file to the chain's last signed height + 1, durably and with the node stopped", async () => {
    const d = dir();
    const path = join(d, "priv_validator_state.json");
    writeFileSync(path, serializeValidatorState(hrs(10, 0, 3)), { mode: 0o644 });
    let stoppedChecks = 0;
    const r = await raiseStateFile(path, [hrs(50, 0, 2), stateAfterHeight(60n)], async () => {
      stoppedChecks++;
    });
    expect(stoppedChecks).toBe(1);
    expect(r.written).toBe(true);
    expect(r.after).toEqual(hrs(61, 0, 0));
    expect(await readStateFile(path)).toEqual(hrs(61, 0, 0));
    expect(statSync(path).mode & 0o777).toBe(0o644); // keeps the node's file mode
  });

  it("never lowers the file: lower candidates leave it byte for byte", async () => {
    const d = dir();
    const path = join(d, "s.json");
    const text = serializeValidatorState({ ...hrs(500, 2, 3), signature: "AA==", signbytes: "AB" });
    writeFileSync(path, text);
    const r = await raiseStateFile(path, [hrs(499, 9, 3), stateAfterHeight(400n), null], async () => {});
    expect(r.written).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  it("creates a missing file from the candidates", async () => {
    const d = dir();
    const path = join(d, "s.json");
    const r = await raiseStateFile(path, [stateAfterHeight(7n)], async () => {});
    expect(r.before).toBeNull();
    expect(await readStateFile(path)).toEqual(hrs(8, 0, 0));
  });

  it("writes nothing while the node runs", async () => {
    const d = dir();
    const path = join(d, "s.json");
    writeFileSync(path, serializeValidatorState(hrs(1, 0, 0)));
    const e = await raiseStateFile(path, [hrs(9, 0, 0)], async () => {
      throw new FailoverError({ code: FailoverErrorCode.NodeRunning, file: path }, "running");
    }).catch((x: unknown) => x);
    expect(code(e)).toBe(FailoverErrorCode.NodeRunning);
    expect(await readStateFile(path)).toEqual(hrs(1, 0, 0));
  });

  it("refuses a malformed file instead of guessing", async () => {
    const d = dir();
    const path = join(d, "s.json");
    writeFileSync(path, "{ not json");
    expect(code(await readStateFile(path).catch((x: unknown) => x))).toBe(FailoverErrorCode.StateInvalid);
    expect(code(await raiseStateFile(path, [hrs(9, 0, 0)], async () => {}).catch((x: unknown) => x))).toBe(
      FailoverErrorCode.StateInvalid,
    );
  });

  it("fuzz: random documents parse or fail with ERR_FAILOVER_STATE_INVALID only", () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const values = [null, "", "0", "1", "-1", "18446744073709551616", 0, 1, -1, 3, 4, 2.5, "AA==", "ZZ", [], {}, true];
    for (let i = 0; i < 5000; i++) {
      const doc: Record<string, unknown> = {};
      for (const k of ["height", "round", "step", "signature", "signbytes", "extra"]) {
        if (rnd(3) > 0) doc[k] = values[rnd(values.length)];
      }
      try {
        const s = parseValidatorState(doc, "fuzz");
        expect(s.height >= 0n && s.step >= 0 && s.step <= 3 && s.round >= 0).toBe(true);
        expect(parseValidatorState(JSON.parse(serializeValidatorState(s)), "again")).toEqual(s);
      } catch (e) {
        expect(code(e)).toBe(FailoverErrorCode.StateInvalid);
      }
    }
  });
});
