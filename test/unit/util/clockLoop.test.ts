import { describe, expect, it } from "vitest";
import { ClockLoop } from "../../../src/util/clockLoop.js";
import { FakeClock } from "../../utils/fakeClock.js";

/** Runs every 100 ms on the hundred (like a check at a fixed point of each slot). */
const nextHundred = (now: number): number => (Math.floor(now / 100) + 1) * 100;

function loopOf(clock: FakeClock, runAtStart: boolean) {
  const runs: number[] = [];
  let release: (() => void) | null = null;
  let hold = false;
  const loop = new ClockLoop(
    { runAtStart },
    {
      clock,
      next: nextHundred,
      run: async () => {
        runs.push(clock.nowMs());
        if (hold) await new Promise<void>((r) => (release = r));
      },
    },
  );
  return {
    loop,
    runs,
    holdNext: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe("ClockLoop", () => {
  it("runs at the times next() names, and at once only when asked", async () => {
    for (const runAtStart of [false, true]) {
      const clock = new FakeClock(1050);
      const { loop, runs } = loopOf(clock, runAtStart);
      loop.start();
      loop.start(); // one loop only
      await clock.untilSleeping();
      expect(runs).toEqual(runAtStart ? [1050] : []);
      expect(clock.sleeping).toBe(1);
      clock.set(1099);
      await new Promise((r) => setImmediate(r));
      expect(runs.length).toBe(runAtStart ? 1 : 0);
      for (const t of [1100, 1200, 1300]) {
        clock.set(t);
        await clock.untilSleeping();
      }
      expect(runs).toEqual([...(runAtStart ? [1050] : []), 1100, 1200, 1300]);
      await loop.stop();
      expect(clock.sleeping).toBe(0);
    }
  });

  it("stop() ends a wait at once, waits for a run under way, and no run follows", async () => {
    const clock = new FakeClock(0);
    const idle = loopOf(clock, false);
    idle.loop.start();
    await clock.untilSleeping();
    await idle.loop.stop();
    clock.set(10_000);
    expect(idle.runs).toEqual([]);

    const busy = loopOf(clock, false);
    busy.loop.start();
    await clock.untilSleeping();
    busy.holdNext();
    clock.set(10_100);
    await new Promise((r) => setImmediate(r));
    expect(busy.runs).toEqual([10_100]);
    let stopped = false;
    const stopping = busy.loop.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false); // the run is still under way
    busy.release();
    await stopping;
    clock.set(20_000);
    await new Promise((r) => setImmediate(r));
    expect(busy.runs).toEqual([10_100]);
    expect(clock.sleeping).toBe(0);
  });

  it("stop() before start() leaves it stopped", async () => {
    const clock = new FakeClock(0);
    const { loop, runs } = loopOf(clock, false);
    await loop.stop();
    loop.start();
    clock.set(1000);
    await new Promise((r) => setImmediate(r));
    expect(runs).toEqual([]);
  });
});
