import type { DecisionEvent, DecisionEventSink } from "../protection/decisionEvents.js";
import { outboxRepository } from "../store/events/outboxRepository.js";
import type { SqlTx } from "../store/types.js";
import type { Logger } from "../util/logger.js";
import { toOutboxEvent } from "./eventFormat.js";
import type { EventMetrics } from "./metrics.js";

export interface OutboxSinkOptions {
  subjectPrefix: string;
  instance: string;
}

export interface OutboxSinkModules {
  logger: Logger;
  metrics: EventMetrics;
  now?: () => number;
}

/**
 * Writes decision events into the outbox inside the decision's transaction. It never fails a decision
 * for the bus's sake except by failing the transaction itself (a store error, which fails closed anyway).
 * When the publisher finds the outbox at its bound (`full`), events are counted as dropped instead of
 * written: signing must not stop because the bus has been away too long.
 */
export class OutboxSink implements DecisionEventSink {
  /** Set by the publisher from the backlog it measures. */
  full = false;
  /** Called after events were handed to a transaction (the publisher looks soon after). */
  onRecorded: () => void = () => {};
  private readonly now: () => number;
  private lastDropLog = 0;

  constructor(
    private readonly opts: OutboxSinkOptions,
    private readonly modules: OutboxSinkModules,
  ) {
    this.now = modules.now ?? Date.now;
  }

  async record(tx: SqlTx, events: readonly DecisionEvent[]): Promise<void> {
    if (events.length === 0) return;
    const nowMs = this.now();
    if (this.full) {
      this.modules.metrics.dropped.inc(events.length);
      if (nowMs - this.lastDropLog > 10_000) {
        this.lastDropLog = nowMs;
        this.modules.logger.error("Event outbox full; decisions are not published", { dropped: events.length });
      }
      return;
    }
    const rows = events.map((e) =>
      toOutboxEvent(e, { prefix: this.opts.subjectPrefix, instance: this.opts.instance, nowMs }),
    );
    await outboxRepository.insert(tx, rows);
    this.onRecorded();
  }
}
