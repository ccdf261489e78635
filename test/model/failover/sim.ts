import type { Monotonic, Timers } from "../../../src/failover/monotonic.js";

/**
 * A simulated clock and timer queue. Time moves only when every piece of work has settled: after each
 * timer the microtask queue is drained (one setImmediate), so a schedule replays identically from its
 * seed. Nothing in the simulated world does real I/O.
 */
export class Sim implements Monotonic {
  t = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  now = (): number => this.t;

  after(ms: number, fn: () => void): () => void {
    const e = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.queue.push(e);
    return () => {
      e.live = false;
    };
  }

  sleep = (ms: number): Promise<void> => new Promise((r) => this.after(ms, r));

  /** Runs timers in (time, order) until `until`; returns the number of timers run. */
  async run(until: number, each: () => void): Promise<number> {
    let n = 0;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      this.queue = this.queue.filter((e) => e.live);
      let best = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const e = this.queue[i]!;
        const b = best < 0 ? null : this.queue[best]!;
        if (b === null || e.at < b.at || (e.at === b.at && e.seq < b.seq)) best = i;
      }
      if (best < 0 || this.queue[best]!.at > until) break;
      const e = this.queue.splice(best, 1)[0]!;
      this.t = e.at;
      e.fn();
      each();
      n++;
    }
    this.t = until;
    return n;
  }
}

const NEVER = new Promise<never>(() => {});

/**
 * One daemon process: its timers and every answer it waits for go through here. Paused (SIGSTOP): its
 * timers and answers are held until it resumes, while the node commands it started go on. Dead: nothing
 * reaches it any more.
 */
export class Proc implements Timers {
  state: "running" | "paused" | "dead" = "running";
  private waiters: (() => void)[] = [];

  constructor(private readonly sim: Sim) {}

  after(ms: number, fn: () => void): () => void {
    let cancelled = false;
    const cancel = this.sim.after(ms, () => {
      void this.ready().then(() => {
        if (!cancelled) fn();
      });
    });
    return () => {
      cancelled = true;
      cancel();
    };
  }

  sleep = (ms: number): Promise<void> => new Promise((r) => this.after(ms, r));

  /** Runs `f` for this process (waiting while paused), and hands its answer over only while it runs. */
  async call<T>(f: () => Promise<T>): Promise<T> {
    await this.ready();
    let out: { ok: true; v: T } | { ok: false; e: unknown };
    try {
      out = { ok: true, v: await f() };
    } catch (e) {
      out = { ok: false, e };
    }
    await this.ready();
    if (!out.ok) throw out.e;
    return out.v;
  }

  pause(): void {
    if (this.state === "running") this.state = "paused";
  }

  resume(): void {
    if (this.state !== "paused") return;
    this.state = "running";
    for (const w of this.waiters.splice(0)) w();
  }

  kill(): void {
    this.state = "dead";
    this.waiters = [];
  }

  private ready(): Promise<void> {
    if (this.state === "running") return Promise.resolve();
    if (this.state === "dead") return NEVER;
    return new Promise((r) => this.waiters.push(r));
  }
}

/** Wraps every method of `o` so the calls go through `p.call`. */
export function through<T extends object>(p: Proc, o: T): T {
  return new Proxy(o, {
    get(target, key, recv) {
      const v = Reflect.get(target, key, recv) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) =>
        p.call(() => Promise.resolve((v as (...a: unknown[]) => unknown).apply(target, args)));
    },
  });
}
