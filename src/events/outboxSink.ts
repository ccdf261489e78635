import type { DecisionEvent, DecisionEventSink } from "../protection/index.js";
import type { SqlTx } from "../store/index.js";
import { outboxRepository } from "../store/index.js";
import type { Logger } from "../util/logger.js";
import type { AlertEventFacts } from "./eventFormat.js";
import type { EventCounters } from "./metrics.js";
import { packEvents } from "./outboxFormat.js";

export interface OutboxSinkOptions {
  subjectPrefix: string;
  instance: string;
}

export interface OutboxSinkModules {
  logger: Logger;
  metrics: EventCounters;
  now?: () => number;
}

/**
 * Writes events into the outbox inside the transaction that decided them: one row per transaction with the
 * bare facts (one JSON.stringify, one random id, one INSERT; PostgreSQL: no round trip of its own), so the
 * signing path pays little; the publisher builds each event. It never fails a decision for the bus's sake
 * except by failing the transaction itself (a store error, which fails closed anyway).
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

  /** Signing decisions (DecisionEventSink). */
  async record(tx: SqlTx, events: readonly DecisionEvent[]): Promise<void> {
    await this.write(tx, "sign", events as DecisionEvent[]);
  }

  /** Alert state changes, in the transaction that changes the alert (alerts/alertService.ts). */
  async recordAlerts(tx: SqlTx, events: readonly AlertEventFacts[]): Promise<void> {
    await this.write(tx, "alert", events as AlertEventFacts[]);
  }

  private async write(tx: SqlTx, kind: "sign" | "alert", events: DecisionEvent[] | AlertEventFacts[]): Promise<void> {
    if (events.length === 0) return;
    const nowMs = this.now();
    if (this.full) {
      this.modules.metrics.dropped.inc(events.length);
      if (nowMs - this.lastDropLog > 10_000) {
        this.lastDropLog = nowMs;
        this.modules.logger.error("Event outbox full; events are not published", { dropped: events.length });
      }
      return;
    }
    const base = { instance: this.opts.instance, prefix: this.opts.subjectPrefix };
    const row =
      kind === "sign"
        ? packEvents({ kind, ...base, events: events as DecisionEvent[] }, nowMs)
        : packEvents({ kind, ...base, events: events as AlertEventFacts[] }, nowMs);
    await outboxRepository.insert(tx, [row]);
    this.onRecorded();
  }
}
