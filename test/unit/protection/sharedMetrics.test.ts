import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createProtectionMetrics } from "../../../src/protection/metrics.js";

describe("protection metrics", () => {
  it("one set per registry, shared by every chain section of a process", () => {
    const r = new Registry();
    const first = createProtectionMetrics(r);
    expect(createProtectionMetrics(r)).toBe(first);
    expect(createProtectionMetrics(new Registry())).not.toBe(first);
  });
});
