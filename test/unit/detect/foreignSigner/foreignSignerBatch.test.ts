import { afterAll, describe, expect, it } from "vitest";
import {
  emptyBatch,
  evaluateForeign,
  FLAG_LIVE_CUR,
  FLAG_LIVE_PREV,
  FLAG_MISMATCH,
  LIVE_SILENT,
  LIVE_UNKNOWN,
  LIVE_YES,
} from "../../../../src/detect/foreignSigner/foreignSignerBatch.js";
import { ForeignSignerScanner } from "../../../../src/detect/foreignSigner/foreignSignerScanner.js";
import { rng } from "../../../utils/fuzz.js";

type Live = "silent" | "live" | "unknown";
const L: Record<Live, number> = { silent: LIVE_SILENT, live: LIVE_YES, unknown: LIVE_UNKNOWN };

interface Case {
  live: [Live, Live];
  /** Targets we attested: any of "E-2", "E-1", "E". */
  attested?: string[];
  /** Epochs we proposed in: "E-1", "E". */
  proposed?: string[];
  mismatch?: boolean;
  unrecognized?: number;
  maintenance?: boolean;
}

function one(c: Case) {
  const b = emptyBatch(1);
  b.live[0] = L[c.live[0]];
  b.live[1] = L[c.live[1]];
  for (const a of c.attested ?? []) b.attested[0]! |= a === "E-2" ? 1 : a === "E-1" ? 2 : 4;
  for (const p of c.proposed ?? []) b.proposed[0]! |= p === "E-1" ? 1 : 2;
  b.mismatch[0] = c.mismatch ? 1 : 0;
  b.unrecognized[0] = c.unrecognized ?? 0;
  b.maintenance[0] = c.maintenance ? 1 : 0;
  const r = evaluateForeign(b);
  return { flags: r.flags[0], confidence: Math.round(r.confidence[0]! * 1000) / 1000, missRate: r.missRate[0] };
}

describe("foreign-signer rule (window E-1, E)", () => {
  const cases: [string, Case, { flags: number; confidence: number }][] = [
    [
      "our own attestations explain liveness",
      { live: ["live", "live"], attested: ["E-1", "E"] },
      { flags: 0, confidence: 0 },
    ],
    [
      "late inclusion: live in E from our attestation of E-1 (we missed E)",
      { live: ["live", "live"], attested: ["E-1"] },
      { flags: 0, confidence: 0 },
    ],
    [
      "late inclusion into E-1 of our attestation of E-2",
      { live: ["live", "silent"], attested: ["E-2"] },
      { flags: 0, confidence: 0 },
    ],
    ["a block of ours explains its epoch", { live: ["silent", "live"], proposed: ["E"] }, { flags: 0, confidence: 0 }],
    ["silent keys raise nothing, whatever we missed", { live: ["silent", "silent"] }, { flags: 0, confidence: 0 }],
    ["no answer is no conclusion", { live: ["unknown", "unknown"] }, { flags: 0, confidence: 0 }],
    [
      "live in E-1, nothing of ours there (we signed E): 0.6 x 1 source + 0.4 x (1 of 2 epochs missed)",
      { live: ["live", "silent"], attested: ["E"] },
      { flags: FLAG_LIVE_PREV, confidence: 0.8 },
    ],
    [
      "live in both, nothing of ours at all: confidence 1",
      { live: ["live", "live"] },
      { flags: FLAG_LIVE_PREV | FLAG_LIVE_CUR, confidence: 1 },
    ],
    [
      "a fleet host signing outside the expected set: 0.6 x 2 sources, capped at 1",
      { live: ["live", "silent"], attested: ["E"], unrecognized: 1 },
      { flags: FLAG_LIVE_PREV, confidence: 1 },
    ],
    [
      "the expected node is in maintenance: its misses do not count, the unknown signer does",
      { live: ["live", "live"], maintenance: true },
      { flags: FLAG_LIVE_PREV | FLAG_LIVE_CUR, confidence: 0.6 },
    ],
    [
      "maintenance never silences an unrecognized host",
      { live: ["silent", "live"], maintenance: true, unrecognized: 1 },
      { flags: FLAG_LIVE_CUR, confidence: 1 },
    ],
    [
      "an on-chain message we did not sign: confidence 1 even while we sign every epoch",
      { live: ["live", "live"], attested: ["E-1", "E"], mismatch: true },
      { flags: FLAG_MISMATCH, confidence: 1 },
    ],
  ];
  for (const [name, c, want] of cases) it(name, () => expect(one(c)).toMatchObject(want));

  it("miss rate is the share of the window's epochs without an attestation of ours", () => {
    expect(one({ live: ["silent", "silent"], attested: ["E-1", "E"] }).missRate).toBe(0);
    expect(one({ live: ["silent", "silent"], attested: ["E-2", "E"] }).missRate).toBe(0.5);
    expect(one({ live: ["silent", "silent"] }).missRate).toBe(1);
  });

  const scanners: ForeignSignerScanner[] = [];
  afterAll(async () => {
    for (const s of scanners) await s.close();
  });

  it("batches of 1,000 on worker threads give exactly the single-thread answer", async () => {
    const rnd = rng(5);
    const n = 4321;
    const b = emptyBatch(n);
    for (let i = 0; i < n; i++) {
      b.live[2 * i] = Math.floor(rnd() * 3);
      b.live[2 * i + 1] = Math.floor(rnd() * 3);
      b.attested[i] = Math.floor(rnd() * 8);
      b.proposed[i] = rnd() < 0.05 ? Math.floor(rnd() * 4) : 0;
      b.mismatch[i] = rnd() < 0.01 ? 1 : 0;
      b.unrecognized[i] = rnd() < 0.02 ? 1 : 0;
      b.maintenance[i] = rnd() < 0.1 ? 1 : 0;
    }
    const inline = evaluateForeign(b);
    const pooled = new ForeignSignerScanner({ workers: 2, batchSize: 1000 });
    scanners.push(pooled);
    const r = await pooled.scan(b);
    expect(r.flags).toEqual(inline.flags);
    expect(r.confidence).toEqual(inline.confidence);
    expect([...inline.flags].filter((f) => f !== 0).length).toBeGreaterThan(100);
  });
});
