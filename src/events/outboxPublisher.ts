import { type OutboxRow, outboxRepository } from "../store/events/outboxRepository.js";
import { LockClass } from "../store/locks.js";
import type { SqlTx, Store } from "../store/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import type { EventMetrics } from "./metrics.js";
import type { EventBus } from "./natsBus.js";

export interface OutboxPublisherOptions {
  /** Most events read and published per round. */
  batch?: number;
  /** Events the outbox may hold; beyond it new events are dropped (and counted), signing goes on. */
  maxBacklog: number;
  /** Poll interval when the outbox was empty (a new event also wakes the publisher). */
  idleMs?: number;
  /** Retry delays: doubling from minBackoffMs up to maxBackoffMs, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often the backlog is counted (metrics, and whether the outbox is full). */
  backlogEveryMs?: number;
}

export interface OutboxPublisherModules {
  store: Store;
  bus: EventBus;
  logger: Logger;
  metrics: EventMetrics;
  /** Told whether the outbox is at its bound (OutboxSink.full). */
  onFull: (full: boolean) => void;
  now?: () => number;
}

/**
 * Drains the outbox onto the bus: reads the oldest events in seq order, publishes them one at a time
 * (each waits for the bus's acknowledgement, so events of one key keep their order) with their msgId as
 * the de-duplication id, then deletes them. Any failure (bus down, store down) is retried with backoff
 * from the first event not yet acknowledged: delivery is at-least-once, and the stream's duplicate window
 * turns a re-publish into nothing. It runs beside signing and never makes a decision wait.
 * On PostgreSQL a round holds an advisory lock so that publishers of several signer processes sharing
 * the database never interleave.
 */
export class OutboxPublisher {
  private readonly batch: number;
  private readonly idleMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly backlogEveryMs: number;
  private readonly now: () => number;
  private stopped = false;
  private counter: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private poked = false;
  private failures = 0;
  private counting = false;
  private lastError: string | null = null;
  private lastFailureLog = Number.NEGATIVE_INFINITY;
  backlog = 0;

  constructor(
    private readonly opts: OutboxPublisherOptions,
    private readonly modules: OutboxPublisherModules,
  ) {
    this.batch = opts.batch ?? 256;
    this.idleMs = opts.idleMs ?? 200;
    this.minBackoffMs = opts.minBackoffMs ?? 100;
    // a reconnect attempt costs little, and a short cap drains the outbox soon after the bus is back
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.backlogEveryMs = opts.backlogEveryMs ?? 1000;
    this.now = modules.now ?? Date.now;
  }

  start(): void {
    if (this.loop !== null) return;
    this.loop = this.run();
    // counted on a timer of its own so the metric moves while the publisher waits out a backoff
    this.counter = setInterval(() => void this.refreshBacklog().catch(() => {}), Math.max(10, this.backlogEveryMs));
    this.counter.unref();
  }

  /** Looks at the outbox now (after new events) instead of at the next poll. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** For /healthcheck: the bus is reachable and the outbox is not growing without bound. */
  status(): { connected: boolean; backlog: number; lastError: string | null } {
    return { connected: this.modules.bus.connected, backlog: this.backlog, lastError: this.lastError };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.counter !== null) clearInterval(this.counter);
    this.wake?.();
    await this.loop;
    await this.modules.bus.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let published = 0;
      try {
        await this.modules.bus.ready();
        this.modules.metrics.connected.set(1);
        published = await this.round();
        this.failures = 0;
        this.lastError = null;
      } catch (e) {
        this.failures++;
        this.lastError = errorMessage(e);
        this.modules.metrics.publishFailures.inc();
        this.modules.metrics.connected.set(this.modules.bus.connected ? 1 : 0);
        // one line per 30 s at most: the bus may be away for hours
        if (this.now() - this.lastFailureLog > 30_000) {
          this.lastFailureLog = this.now();
          this.modules.logger.warn(
            "Publishing events failed; retrying",
            { failures: this.failures, backlog: this.backlog },
            e,
          );
        }
        await this.sleep(this.backoffMs());
        continue;
      }
      if (published === 0) {
        // a poke comes while the new events' transaction is still committing: look again shortly
        if (this.poked) {
          this.poked = false;
          await this.sleep(5);
          continue;
        }
        await this.sleep(this.idleMs);
      }
    }
  }

  /** One round: publish up to `batch` events and delete those acknowledged. Returns how many. */
  private async round(): Promise<number> {
    const store = this.modules.store;
    if (store.dialect === "postgres") {
      // the whole round in one transaction holding the outbox lock; new events are inserted meanwhile
      // (MVCC), only another publisher waits
      const r = await store.tx(async (tx) => {
        const rows = await tx.all<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1, 0) AS ok", [
          LockClass.EventOutbox,
        ]);
        if (rows[0]?.ok !== true) return { done: 0, error: null };
        return this.publishRows(tx, await outboxRepository.oldest(tx, this.batch));
      });
      if (r.error !== null) throw r.error;
      return r.done;
    }
    // SQLite: a write transaction blocks every other writer, so the bus is never awaited inside one
    const rows = await store.tx((tx) => outboxRepository.oldest(tx, this.batch), { readOnly: true });
    const done: number[] = [];
    const error = await this.publishAll(rows, done);
    if (done.length > 0) await store.tx((tx) => outboxRepository.remove(tx, done));
    this.account(done.length);
    if (error !== null) throw error;
    return done.length;
  }

  private async publishRows(tx: SqlTx, rows: OutboxRow[]): Promise<{ done: number; error: unknown }> {
    const done: number[] = [];
    const error = await this.publishAll(rows, done);
    await outboxRepository.remove(tx, done);
    this.account(done.length);
    return { done: done.length, error };
  }

  /** Publishes in order until the first failure; `done` gets the seqs acknowledged. */
  private async publishAll(rows: readonly OutboxRow[], done: number[]): Promise<unknown> {
    for (const r of rows) {
      if (this.stopped) return null;
      try {
        await this.modules.bus.publish(r.subject, r.payload, r.msgId);
      } catch (e) {
        return e;
      }
      done.push(r.seq);
    }
    return null;
  }

  private account(n: number): void {
    if (n === 0) return;
    this.modules.metrics.published.inc(n);
    this.backlog = Math.max(0, this.backlog - n);
    this.modules.metrics.backlog.set(this.backlog);
  }

  /** Counts the outbox and tells the sink whether it is full (one count at a time). */
  private async refreshBacklog(): Promise<void> {
    if (this.counting) return;
    this.counting = true;
    try {
      const now = this.now();
      const b = await this.modules.store.tx((tx) => outboxRepository.backlog(tx), { readOnly: true });
      this.backlog = b.count;
      this.modules.metrics.backlog.set(b.count);
      this.modules.metrics.oldestAge.set(b.oldestMs === null ? 0 : Math.max(0, (now - b.oldestMs) / 1000));
      this.modules.onFull(b.count >= this.opts.maxBacklog);
    } finally {
      this.counting = false;
    }
  }

  private backoffMs(): number {
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(this.failures - 1, 20));
    return base / 2 + Math.random() * (base / 2);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
