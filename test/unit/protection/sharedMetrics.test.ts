import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createProtectionMetrics, sharedProtectionMetrics } from "../../../src/protection/metrics.js";

describe("sharedProtectionMetrics", () => {
  it("one set per registry, reusing metrics a section created directly", async () => {
    const r = new Registry();
    const direct = createProtectionMetrics(r);
    const shared = sharedProtectionMetrics(r);
    expect(sharedProtectionMetrics(r)).toBe(shared);
    shared.refusals.inc({ chain: "substrate", code: "ERR_X" });
    direct.refusals.inc({ chain: "ethereum", code: "ERR_Y" });
    const text = await r.metrics();
    expect(text).toContain('slashguard_protection_refusals_total{chain="substrate",code="ERR_X"} 1');
    expect(text).toContain('slashguard_protection_refusals_total{chain="ethereum",code="ERR_Y"} 1');
    expect(sharedProtectionMetrics(new Registry())).not.toBe(shared);
  });
});
