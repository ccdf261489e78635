import { Counter, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { buildHttpApp } from "../../../../../src/http/app.js";
import { requestTotals, SignStats } from "../../../../../src/http/routes/eth2/signStats.js";
import { STATS_KEEP_MINUTES, statsRoutes } from "../../../../../src/http/routes/eth2/statsRoutes.js";
import { httpStatusOf } from "../../../../../src/http/statusCodes.js";
import { nullLogger } from "../../../../../src/util/logger.js";
import { ManualClock } from "../../../../utils/monitorParts.js";

const MIN = 60_000;

function setup(keepMinutes = 10) {
  const registry = new Registry();
  const counter = new Counter({
    name: "slashguard_eth2_sign_requests_total",
    help: "test",
    labelNames: ["type", "status"],
    registers: [registry],
  });
  // Start on a minute boundary so the minute of each step is plain to read.
  const clock = new ManualClock(Math.floor(1_700_000_000_000 / MIN) * MIN);
  const stats = new SignStats({ keepMinutes, now: clock.now }, requestTotals(counter));
  return { counter, clock, stats, registry };
}

describe("signatures and refusals per minute", () => {
  it("counts what happened after the baseline, in the minute it was sampled, by refusal code", async () => {
    const { counter, clock, stats } = setup();
    counter.inc({ type: "ATTESTATION", status: "200" }, 50); // before start: not this series'
    await stats.start(3_600_000);
    stats.stop();
    counter.inc({ type: "ATTESTATION", status: "200" }, 3);
    counter.inc({ type: "BLOCK_V2", status: "200" });
    counter.inc({ type: "ATTESTATION", status: "ERR_PROTECTION_SURROUNDING_VOTE" }, 2);
    await stats.sample();
    clock.advance(2 * MIN);
    counter.inc({ type: "ATTESTATION", status: "ERR_KEY_UNKNOWN" });
    await stats.sample();
    const t0 = stats.since;
    expect(stats.minutes(5)).toEqual([
      { minute: t0, signed: 4, refused: 2, refusedByCode: { ERR_PROTECTION_SURROUNDING_VOTE: 2 } },
      { minute: t0 + MIN, signed: 0, refused: 0, refusedByCode: {} },
      { minute: t0 + 2 * MIN, signed: 0, refused: 1, refusedByCode: { ERR_KEY_UNKNOWN: 1 } },
    ]);
    // Asking for fewer minutes gives the latest ones.
    expect(stats.minutes(1).map((m) => m.minute)).toEqual([t0 + 2 * MIN]);
  });

  it("drops minutes older than it keeps, and survives a counter reset", async () => {
    const { counter, clock, stats, registry } = setup(3);
    await stats.sample();
    counter.inc({ type: "ATTESTATION", status: "200" }, 5);
    await stats.sample();
    clock.advance(5 * MIN);
    registry.resetMetrics();
    counter.inc({ type: "ATTESTATION", status: "200" }, 2);
    await stats.sample();
    const mins = stats.minutes(10);
    // Zero-filled from the first kept minute on; the old minute with 5 is gone.
    expect(mins.reduce((n, m) => n + m.signed, 0)).toBe(2);
    expect(mins.at(-1)!.signed).toBe(2);
  });

  it("overlapping samples count each request exactly once", async () => {
    const { counter, stats } = setup();
    await stats.sample();
    const runs: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      counter.inc({ type: "ATTESTATION", status: i % 5 === 0 ? "ERR_X" : "200" });
      runs.push(stats.sample());
    }
    await Promise.all(runs);
    const [m] = stats.minutes(1);
    expect([m!.signed, m!.refused]).toEqual([40, 10]);
  });

  it("GET /api/v1/eth2/stats answers keys loaded and the minutes, up to date at the request", async () => {
    const { counter, stats, registry } = setup(STATS_KEEP_MINUTES);
    await stats.sample();
    const app = await buildHttpApp(
      {},
      { logger: nullLogger, registry, health: async () => ({ ok: true, checks: {} }), statusOf: httpStatusOf },
    );
    await app.register(statsRoutes, { stats, keyCount: () => 4 });
    counter.inc({ type: "ATTESTATION", status: "200" }, 7);
    const r = await app.inject({ url: "/api/v1/eth2/stats?minutes=2" });
    expect(r.statusCode).toBe(200);
    const d = r.json().data;
    expect(d.keys_loaded).toBe(4);
    expect(d.since).toBe(new Date(stats.since).toISOString());
    expect(d.minutes).toEqual([
      { minute: new Date(stats.since).toISOString(), signed: 7, refused: 0, refused_by_code: {} },
    ]);
    for (const q of ["0", "-3", "x", "1.5"])
      expect((await app.inject({ url: `/api/v1/eth2/stats?minutes=${q}` })).json().code).toBe("ERR_BAD_REQUEST");
    await app.close();
  });
});
