import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { modelConfig } from "../harness/config.js";
import { runSchedule, type Schedule, scheduleArb } from "./schedules.js";

/**
 * Issue 14, instrument 2: two or three failover daemons (the real FailoverDaemon, LeaseKeeper and
 * promotion checklist) on a simulated clock, with the lease store, nodes, chain, peers and files
 * simulated, under random schedules of daemon crash and restart, power loss, pause (SIGSTOP: its node
 * keeps signing), store outage for one host (with lost answers), store clock steps, slow or failing node
 * start and stop, full or hung disk on the key file, an unhealthy active (graceful handover) and
 * unreachable peers. Property: at no instant two nodes run with the validator key; no height is signed
 * by two nodes.
 *
 * `npm run test:model -- --runs N [--seed S] test/model/failover` (SLASHGUARD_MODEL_RUNS, default 300, about
 * 10 s; SLASHGUARD_MODEL_SEED) runs more; SLASHGUARD_MODEL_PATH with the seed replays the counterexample
 * path fast-check printed.
 */
const { runs: RUNS, seed: SEED } = modelConfig(300);
const PATH = process.env.SLASHGUARD_MODEL_PATH;

describe("failover under random fault schedules", () => {
  it("the model works: with no faults the first host signs, and a power loss moves the validator", async () => {
    const calm = await runSchedule({ hosts: 2, faults: [] });
    expect(calm.world.violations).toEqual([]);
    const signed = [...calm.world.signedBy.values()].filter((s) => s.has("h0")).length;
    expect(signed).toBeGreaterThan(60);

    const loss = await runSchedule({
      hosts: 2,
      faults: [{ kind: "power_loss", host: 0, at: 30_000, restartAfter: 60_000 }],
    });
    expect(loss.world.violations).toEqual([]);
    expect([...loss.world.signedBy.values()].some((s) => s.has("h1"))).toBe(true);

    const handover = await runSchedule({ hosts: 3, faults: [{ kind: "unhealthy", host: 0, at: 30_000, ms: 40_000 }] });
    expect(handover.world.violations).toEqual([]);
    expect([...handover.world.signedBy.values()].some((s) => s.has("h1") || s.has("h2"))).toBe(true);
  });

  it("never two nodes with the validator key, never a height signed twice", async () => {
    let explored = 0;
    let events = 0;
    const started = Date.now();
    console.log(`failover fault schedules: ${RUNS} runs, seed ${SEED}${PATH === undefined ? "" : `, path ${PATH}`}`);
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (s: Schedule) => {
        const out = await runSchedule(s);
        explored++;
        events += out.events;
        if (out.world.violations.length > 0) {
          throw new Error(`safety violated: ${out.world.violations.slice(0, 3).join("; ")}`);
        }
      }),
      { numRuns: RUNS, seed: SEED, ...(PATH === undefined ? {} : { path: PATH }) },
    );
    console.log(
      `failover fault schedules: ${explored} schedules explored (${events} simulated events) in ${Date.now() - started} ms, seed ${SEED}`,
    );
  });
});
