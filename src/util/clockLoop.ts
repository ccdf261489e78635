import type { Clock } from "./clock.js";

export interface ClockLoopOptions {
  /** One run as soon as start() is called, before the first wait. */
  runAtStart: boolean;
}

export interface ClockLoopModules {
  clock: Clock;
  /** When the next run is due, asked after every run (e.g. three quarters into a slot; a retry time). */
  next(nowMs: number): number;
  /** One run; reports its own failures (a throw would end the loop). */
  run(): Promise<unknown>;
}

/**
 * A loop on an injected clock: runs at the times `next` names until stop(). The chain checks that poll
 * per slot or per epoch (the doppelganger guard, the foreign-signer watch) share it; their tests move a
 * fake clock instead of waiting.
 */
export class ClockLoop {
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly opts: ClockLoopOptions,
    private readonly m: ClockLoopModules,
  ) {}

  /** Starts the loop (a second call does nothing). */
  start(): void {
    if (this.loop !== null) return;
    this.loop = (async () => {
      if (this.opts.runAtStart) await this.m.run();
      while (!this.abort.signal.aborted) {
        const now = this.m.clock.nowMs();
        try {
          await this.m.clock.sleep(this.m.next(now) - now, this.abort.signal);
        } catch {
          return;
        }
        await this.m.run();
      }
    })();
  }

  /** Ends the wait at once and resolves after a run under way finishes; no run starts after it. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
