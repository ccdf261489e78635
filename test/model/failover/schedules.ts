import fc from "fast-check";
import { TIMING } from "./timing.js";
import { World } from "./world.js";

/** Simulated time each schedule runs. */
export const SIM_MS = 120_000;

export type Fault =
  | { kind: "crash"; host: number; at: number; restartAfter: number | null }
  | { kind: "power_loss"; host: number; at: number; restartAfter: number }
  | { kind: "pause"; host: number; at: number; ms: number }
  | { kind: "store_outage"; host: number; at: number; ms: number; answerLost: boolean }
  | { kind: "store_clock_step"; at: number; deltaMs: number }
  | { kind: "slow_start"; host: number; at: number; ms: number; startMs: number }
  | { kind: "failing_start"; host: number; at: number; ms: number }
  | { kind: "slow_stop"; host: number; at: number; ms: number; stopMs: number }
  | { kind: "failing_stop"; host: number; at: number; ms: number }
  | { kind: "disk_full"; host: number; at: number; ms: number; hang: boolean }
  | { kind: "unhealthy"; host: number; at: number; ms: number }
  | { kind: "peer_unreachable"; host: number; at: number; ms: number };

export interface Schedule {
  hosts: number;
  faults: Fault[];
}

const host = fc.integer({ min: 0, max: 2 });
// Faults cluster in one window (so that they meet: a loss during a promotion, a pause during a start),
// with some spread over the whole run.
const at = fc.oneof(
  { arbitrary: fc.integer({ min: 15_000, max: 45_000 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: SIM_MS - 10_000 }), weight: 1 },
);
const ms = fc.integer({ min: 500, max: 40_000 });

const fault: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({
    kind: fc.constant("crash" as const),
    host,
    at,
    restartAfter: fc.option(fc.integer({ min: 500, max: 30_000 }), { nil: null }),
  }),
  fc.record({
    kind: fc.constant("power_loss" as const),
    host,
    at,
    restartAfter: fc.integer({ min: 500, max: 30_000 }),
  }),
  fc.record({ kind: fc.constant("pause" as const), host, at, ms }),
  fc.record({ kind: fc.constant("store_outage" as const), host, at, ms, answerLost: fc.boolean() }),
  fc.record({
    kind: fc.constant("store_clock_step" as const),
    at,
    deltaMs: fc.integer({ min: -20_000, max: 20_000 }),
  }),
  fc.record({
    kind: fc.constant("slow_start" as const),
    host,
    at,
    ms,
    // a start finishes (or is given up by the service manager) within command_timeout: an assumption
    startMs: fc.integer({ min: 500, max: TIMING.commandTimeoutMs }),
  }),
  fc.record({ kind: fc.constant("failing_start" as const), host, at, ms }),
  fc.record({ kind: fc.constant("slow_stop" as const), host, at, ms, stopMs: fc.integer({ min: 200, max: 5000 }) }),
  fc.record({ kind: fc.constant("failing_stop" as const), host, at, ms }),
  fc.record({ kind: fc.constant("disk_full" as const), host, at, ms, hang: fc.boolean() }),
  fc.record({ kind: fc.constant("unhealthy" as const), host, at, ms }),
  fc.record({ kind: fc.constant("peer_unreachable" as const), host, at, ms }),
);

export const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  hosts: fc.integer({ min: 2, max: 3 }),
  faults: fc.array(fault, { maxLength: 8 }),
});

function apply(w: World, f: Fault): void {
  const { sim } = w;
  if (f.kind === "store_clock_step") {
    sim.after(f.at, () => {
      w.storeOffset += f.deltaMs;
    });
    return;
  }
  const h = w.hosts[f.host % w.hosts.length]!;
  const until = (ms: number, undo: () => void): void => void sim.after(ms, undo);
  sim.after(f.at, () => {
    switch (f.kind) {
      case "crash":
        h.crash();
        if (f.restartAfter !== null) until(f.restartAfter, () => h.proc === null && h.boot());
        return;
      case "power_loss":
        h.crash();
        h.nodeRunning = false;
        h.loadedKey = null;
        until(f.restartAfter, () => h.proc === null && h.boot());
        return;
      case "pause": {
        const p = h.proc;
        p?.pause();
        until(f.ms, () => p?.resume());
        return;
      }
      case "store_outage":
        h.storeDown = f.answerLost ? "answer_lost" : "down";
        until(f.ms, () => {
          h.storeDown = "no";
        });
        return;
      case "slow_start":
        h.startMode = { kind: "slow", ms: f.startMs };
        until(f.ms, () => {
          h.startMode = { kind: "ok" };
        });
        return;
      case "failing_start":
        h.startMode = { kind: "fail" };
        until(f.ms, () => {
          h.startMode = { kind: "ok" };
        });
        return;
      case "slow_stop":
        h.stopMode = { kind: "slow", ms: f.stopMs };
        until(f.ms, () => {
          h.stopMode = { kind: "ok" };
        });
        return;
      case "failing_stop":
        h.stopMode = { kind: "fail" };
        until(f.ms, () => {
          h.stopMode = { kind: "ok" };
        });
        return;
      case "disk_full":
        h.diskFull = f.hang ? "hang" : "enospc";
        until(f.ms, () => {
          h.diskFull = "no";
        });
        return;
      case "unhealthy":
        h.unhealthy = true;
        until(f.ms, () => {
          h.unhealthy = false;
        });
        return;
      case "peer_unreachable":
        h.unreachable = true;
        until(f.ms, () => {
          h.unreachable = false;
        });
        return;
    }
  });
}

export interface Outcome {
  world: World;
  events: number;
}

/** Runs one schedule to its end; the world's `violations` say whether the property held. */
export async function runSchedule(s: Schedule): Promise<Outcome> {
  const w = new World(s.hosts);
  for (const h of w.hosts) h.boot();
  for (const f of s.faults) apply(w, f);
  const events = await w.sim.run(SIM_MS, () => w.check());
  for (const h of w.hosts) h.crash();
  return { world: w, events };
}
