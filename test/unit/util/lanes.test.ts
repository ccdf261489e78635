import { describe, expect, it } from "vitest";
import { onLanes } from "../../../src/util/lanes.js";

describe("onLanes", () => {
  it("runs every index once, never more than `lanes` at a time", async () => {
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    await onLanes(25, 3, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      seen.push(i);
      running--;
    });
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(most).toBe(3);
  });

  it("runs on one lane when asked for none, and does nothing for no work", async () => {
    const seen: number[] = [];
    await onLanes(3, 0, async (i) => {
      seen.push(i);
    });
    expect(seen).toEqual([0, 1, 2]);
    await onLanes(0, 4, async () => {
      throw new Error("not called");
    });
  });
});
