import { describe, expect, it } from "vitest";
import { parseReport, REPORT_LIMITS } from "../../../src/fleet/reportFormat.js";
import { BadRequestError, CommonErrorCode } from "../../../src/util/errors.js";
import { mutate, rng } from "../../utils/fuzz.js";
import { harmonyKey, hkey, report } from "../../utils/reports.js";

describe("agent report format", () => {
  it("parses a report, computes activity from facts and a content digest", () => {
    const r = parseReport(report("val-1", [harmonyKey(hkey(1)), harmonyKey(hkey(2), "Normal", true)]));
    expect(r.host).toBe("val-1");
    expect(r.keys.map((k) => k.activity.active)).toEqual([true, false]);
    const again = parseReport({
      ...report("val-1", [harmonyKey(hkey(2), "Normal", true), harmonyKey(hkey(1))]),
      observed_at: 5,
    });
    expect(Buffer.compare(r.digest, again.digest)).toBe(0); // order and observation time do not change content
    const other = parseReport(report("val-1", [harmonyKey(hkey(1), "Syncing"), harmonyKey(hkey(2), "Normal", true)]));
    expect(Buffer.compare(r.digest, other.digest)).not.toBe(0);
  });

  it("upper-case keys are canonicalised", () => {
    const r = parseReport(report("h", [harmonyKey(hkey(10).toUpperCase().replace("0X", "0x"))]));
    expect(r.keys[0]!.pubkey).toBe(hkey(10));
  });

  const bad: [string, (r: Record<string, unknown>) => void, string][] = [
    ["version", (r) => (r.version = 2), "version"],
    ["host", (r) => (r.host = "bad host!"), "host"],
    ["interval", (r) => (r.interval_ms = 10), "interval_ms"],
    ["observed_at", (r) => (r.observed_at = "now"), "observed_at"],
    ["sources type", (r) => (r.sources = {}), "sources"],
    [
      "unknown chain",
      (r) => ((r.sources as object[])[0] = { id: "x", chain: "bitcoin", reachable: true }),
      "sources[0].chain",
    ],
    ["duplicate source", (r) => (r.sources as object[]).push((r.sources as object[])[0]!), "sources[1].id"],
    ["key of no source", (r) => ((r.keys as { source: string }[])[0]!.source = "nope"), "keys[0].source"],
    ["bad pubkey", (r) => ((r.keys as { pubkey: string }[])[0]!.pubkey = "0x1234"), "keys[0].pubkey"],
    ["duplicate key", (r) => (r.keys as object[]).push((r.keys as object[])[0]!), "keys[1].pubkey"],
    ["bad mode", (r) => ((r.keys as { facts: { mode: string } }[])[0]!.facts.mode = "Leading"), "keys[0].facts.mode"],
    [
      "too many keys",
      (r) => (r.keys = Array.from({ length: REPORT_LIMITS.keys + 1 }, (_, i) => harmonyKey(hkey(i)))),
      "keys",
    ],
  ];
  it.each(bad)("refuses %s with ERR_BAD_REQUEST naming the field", (_n, patch, field) => {
    const r = structuredClone(report("h", [harmonyKey(hkey(1))])) as unknown as Record<string, unknown>;
    patch(r);
    try {
      parseReport(r);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BadRequestError);
      expect((e as BadRequestError).type).toEqual({ code: CommonErrorCode.BadRequest, field });
    }
  });

  it("fuzz: 5,000 mutated reports parse or fail with ERR_BAD_REQUEST", () => {
    const r = rng(99);
    const base = report("h", [harmonyKey(hkey(1)), harmonyKey(hkey(2), "Listening")]);
    let ok = 0;
    for (let i = 0; i < 5000; i++) {
      try {
        parseReport(mutate(base, r));
        ok++;
      } catch (e) {
        expect(e).toBeInstanceOf(BadRequestError);
      }
    }
    expect(ok).toBeLessThan(5000);
  });
});
