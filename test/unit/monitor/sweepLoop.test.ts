import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createAlertMetrics } from "../../../src/alerts/metrics.js";
import { FleetDetector } from "../../../src/detect/fleet/fleetDetector.js";
import { parseReport } from "../../../src/fleet/reportFormat.js";
import { SweepLoop } from "../../../src/monitor/sweepLoop.js";
import { ownersRepository } from "../../../src/store/fleet/ownersRepository.js";
import { nullLogger } from "../../../src/util/logger.js";
import { ManualClock, monitorParts } from "../../utils/monitorParts.js";
import { harmonyKey, hkey, report } from "../../utils/reports.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const SWEEP_MS = 5000;
const REPORT_MS = 1000;

describe.each(ENGINES)("sweep loop on %s", (engine) => {
  let ts: TestStore;
  let parts: ReturnType<typeof monitorParts>;
  const loops: SweepLoop[] = [];
  afterEach(async () => {
    for (const l of loops.splice(0)) await l.stop();
    await parts?.ingest.close();
    await ts?.dispose();
  });

  const setup = async (clock: ManualClock) => {
    ts = await openTestStore(engine);
    parts = monitorParts(ts.store, clock);
    const ownerId = await ts.store.tx((tx) => ownersRepository.upsertOwner(tx, "alice", clock.t));
    const auth = { tokenId: 1, ownerId, ownerName: "alice", role: "agent" as const };
    await parts.ingest.ingest(
      auth,
      parseReport(report("a", [harmonyKey(hkey(1))], { intervalMs: REPORT_MS, observedAt: clock.t })),
    );
    return ownerId;
  };
  const loop = (clock: ManualClock, registry = new Registry()) => {
    const l = new SweepLoop(
      { intervalMs: SWEEP_MS, keyMovedWindowMs: 3_600_000, now: clock.now },
      {
        store: ts.store,
        detector: new FleetDetector({ workers: 0 }),
        alerts: parts.alerts,
        metrics: createAlertMetrics(registry),
        logger: nullLogger,
      },
    );
    loops.push(l);
    return { l, registry };
  };
  /** How many passes ran: the count of the pass-duration histogram. */
  const passes = async (registry: Registry) => {
    const text = await registry.metrics();
    return Number(/^slashguard_monitor_detection_pass_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const kinds = async (ownerId: number) =>
    (await parts.alerts.list({ ownerId, limit: 10 })).map((a) => [a.kind, a.hosts]);

  it("counts silence from the monitor's start: a host last heard before it is not silent yet", async () => {
    const clock = new ManualClock();
    const ownerId = await setup(clock);
    clock.advance(100 * REPORT_MS); // the monitor was down while the agent kept reporting elsewhere
    const { l } = loop(clock);
    await l.sweep();
    expect(await kinds(ownerId)).toEqual([]);
    clock.advance(3 * REPORT_MS + 1);
    await l.sweep();
    expect(await kinds(ownerId)).toEqual([["agent_silent", ["a"]]]);
  });

  it("monitors on one store claim the pass: an unforced pass within the interval of the last one is skipped", async () => {
    const clock = new ManualClock();
    await setup(clock);
    const a = loop(clock);
    const b = loop(clock);
    await a.l.sweep(true);
    clock.advance(SWEEP_MS / 2);
    await b.l.sweep(false);
    expect([await passes(a.registry), await passes(b.registry)]).toEqual([1, 0]);
    clock.advance(SWEEP_MS / 2);
    await b.l.sweep(false);
    expect(await passes(b.registry)).toBe(1);
    await b.l.sweep(true);
    expect(await passes(b.registry)).toBe(2);
  });
});
