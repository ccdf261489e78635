import type { Clock } from "../../src/util/clock.js";

interface Sleeper {
  at: number;
  resolve: () => void;
}

/**
 * A clock the test moves: sleep() resolves when advance() passes its deadline, never by real time.
 * `sleepers` lets a test wait until a loop has finished its work and gone back to sleep.
 */
export class FakeClock implements Clock {
  private sleepers: Sleeper[] = [];
  private waiting: { n: number; resolve: () => void }[] = [];

  constructor(public t: number) {}

  nowMs = (): number => this.t;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const s: Sleeper = { at: this.t + Math.max(0, ms), resolve };
      this.sleepers.push(s);
      signal?.addEventListener(
        "abort",
        () => {
          this.sleepers = this.sleepers.filter((x) => x !== s);
          reject(signal.reason);
        },
        { once: true },
      );
      this.notify();
    });

  get sleeping(): number {
    return this.sleepers.length;
  }

  /** Resolves once at least `n` callers are sleeping. */
  untilSleeping(n = 1): Promise<void> {
    if (this.sleepers.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ n, resolve }));
  }

  /** Moves time to `t`, waking every sleeper whose deadline has come (in deadline order). */
  set(t: number): void {
    this.t = Math.max(this.t, t);
    const due = this.sleepers.filter((s) => s.at <= this.t).sort((a, b) => a.at - b.at);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.resolve();
  }

  advance(ms: number): void {
    this.set(this.t + ms);
  }

  private notify(): void {
    this.waiting = this.waiting.filter((w) => {
      if (this.sleepers.length < w.n) return true;
      w.resolve();
      return false;
    });
  }
}
