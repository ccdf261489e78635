import { describe, expect, it } from "vitest";
import { failbackDue, HealthHysteresis, handoverAllowed } from "../../../src/failover/hysteresis.js";

describe("health hysteresis", () => {
  // samples (1 ok, 0 failed) -> verdict after each, with 3 retries
  it.each([
    ["one failure changes nothing", "10111", "11111"],
    ["three failures in a row turn it unhealthy", "000", "110"],
    ["flapping never moves it", "0101010101", "1111111111"],
    ["recovery needs three good ones too", "000110111", "110000001"],
  ])("%s", (_n, samples, verdicts) => {
    const h = new HealthHysteresis(3, 0, true);
    const out = [...samples].map((c, i) => {
      h.update(c === "1", i);
      return h.healthy ? "1" : "0";
    });
    expect(out.join("")).toBe(verdicts);
  });

  it("tells how long the verdict has held", () => {
    const h = new HealthHysteresis(2, 0, false);
    h.update(true, 10);
    h.update(true, 20);
    expect(h.healthy).toBe(true);
    expect(h.heldForMs(70)).toBe(50);
  });

  it.each([
    [null, 1000, true],
    [999, 1000, false],
    [1000, 1000, true],
  ])("handover window: last handover %s ms ago, window %s -> %s", (ago, window, want) => {
    expect(handoverAllowed(ago, window)).toBe(want);
  });

  it.each([
    [59_000, 700_000, false, "grace not over"],
    [60_000, 500_000, false, "window still closed"],
    [60_000, 600_000, true, "both passed"],
  ])("failback after healthy %s ms, last handover %s ms ago -> %s (%s)", (healthy, ago, want) => {
    expect(failbackDue({ healthyForMs: healthy, graceMs: 60_000, acquiredAgoMs: ago, windowMs: 600_000 })).toBe(want);
  });
});
