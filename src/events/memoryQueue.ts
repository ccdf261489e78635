import type { ReadyEvent } from "./eventFormat.js";
import type { EventCounters } from "./metrics.js";

/**
 * Events of a source that has no store transaction to write an outbox row in (the failover daemon): a
 * bounded queue in memory that the same publisher drains, before the outbox, in order. Lost when the
 * process dies before they are published (docs/events.md says so); beyond `max` new events are dropped
 * and counted (`slashguard_events_dropped_total`).
 */
export class MemoryEventQueue {
  private readonly items: ReadyEvent[] = [];
  /** Called after an event was queued (the publisher looks soon after). */
  onQueued: () => void = () => {};

  constructor(
    private readonly max: number,
    private readonly metrics: EventCounters,
  ) {}

  push(e: ReadyEvent): boolean {
    if (this.items.length >= this.max) {
      this.metrics.dropped.inc();
      return false;
    }
    this.items.push(e);
    this.onQueued();
    return true;
  }

  get length(): number {
    return this.items.length;
  }

  /** The oldest `n` events (not removed). */
  peek(n: number): ReadyEvent[] {
    return this.items.slice(0, n);
  }

  /** Removes the oldest `n` events (published). */
  drop(n: number): void {
    this.items.splice(0, n);
  }
}
