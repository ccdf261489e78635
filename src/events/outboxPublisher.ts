import type { Store } from "../store/index.js";
import { LockClass, type OutboxRow, outboxRepository } from "../store/index.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import type { ReadyEvent } from "./eventFormat.js";
import type { MemoryEventQueue } from "./memoryQueue.js";
import type { EventCounters } from "./metrics.js";
import type { EventBus } from "./natsBus.js";
import { expandRow } from "./outboxFormat.js";
import { publishInWindows } from "./publishWindows.js";

/** Events built and published per round at most (unless one row holds more). */
const ROUND_EVENTS = 1024;
/** Beyond this many waiting events the publisher stops waiting for pauses in signing (it must catch up). */
const CATCH_UP_BACKLOG = 100_000;

export interface OutboxPublisherOptions {
  /** Most outbox rows read per round. */
  batch?: number;
  /** Events the outbox may hold; beyond it new events are dropped (and counted), signing goes on. */
  maxBacklog: number;
  /** Poll interval when the outbox was empty. */
  idleMs?: number;
  /** After new events are signalled, wait this long so that one round takes the events of many transactions. */
  lingerMs?: number;
  /** Most events awaiting the bus's acknowledgement at once (never two of one subject). */
  window?: number;
  /**
   * Off the hot path: while new events keep coming (less than quietMs apart) the publisher waits, but
   * never more than maxDelayMs after the oldest event it knows of; then one round, and it waits again.
   */
  quietMs?: number;
  maxDelayMs?: number;
  /** SQLite: published rows are deleted in one write transaction at most this often. */
  deleteEveryMs?: number;
  /** Retry delays: doubling from minBackoffMs up to maxBackoffMs, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often the backlog is counted at least (metrics, and whether the outbox is full). */
  backlogEveryMs?: number;
}

export interface OutboxPublisherModules {
  /** null: a process without a store (the failover daemon) publishes its memory queue only. */
  store: Store | null;
  queue?: MemoryEventQueue | null;
  bus: EventBus;
  logger: Logger;
  metrics: EventCounters;
  /** Told whether the outbox is at its bound (OutboxSink.full). */
  onFull: (full: boolean) => void;
  /**
   * SQLite: deletes published rows (default: a write transaction on `store`). The publisher thread hands
   * them to the signer's own connection: a commit on a second connection would make the signer's key-state
   * cache reload (SqlTx.changeToken), and its writes wait for the lock with the event loop blocked.
   */
  removeRows?: (seqs: number[]) => Promise<void>;
  now?: () => number;
}

/** What the signer drives: the publisher in its own thread (PublisherThread) or in this one (OutboxPublisher). */
export interface EventPublisher {
  start(): void;
  /** New events were written: look at the outbox soon. */
  poke(): void;
  /** For /healthcheck: the bus is reachable and the outbox is not growing without bound. */
  status(): { connected: boolean; backlog: number; lastError: string | null };
  /** Stops after the round under way; rows not published stay in the outbox for the next start. */
  stop(): Promise<void>;
}

/**
 * Drains the memory queue and the outbox onto the bus: reads the oldest rows in seq order, builds their
 * events, publishes them with their id as the de-duplication id, then deletes the rows. Up to `window`
 * events wait for acknowledgements at once, never two of one subject, so a key's events keep their order
 * even when one fails; an acknowledged event is not sent again by this process. Any failure is retried
 * with backoff from the first event not acknowledged: delivery is at-least-once, and the stream's duplicate
 * window turns a re-publish (e.g. after a crash) into nothing. It runs in a thread of its own beside signing
 * (PublisherThread, publisherWorker.ts) and never makes a decision wait. SQLite: reads go after the last
 * row taken (rows are committed in seq order there) and deletes are gathered into one write transaction
 * per `deleteEveryMs` (on the signer's connection, removeRows), so the signer's commits rarely share the
 * disk with the publisher's. PostgreSQL: a round holds an advisory lock so that publishers of
 * several signer processes sharing the database never interleave.
 */
export class OutboxPublisher implements EventPublisher {
  private readonly batch: number;
  private readonly idleMs: number;
  private readonly lingerMs: number;
  private readonly window: number;
  private readonly deleteEveryMs: number;
  private readonly quietMs: number;
  private readonly maxDelayMs: number;
  private lastActivity = Number.NEGATIVE_INFINITY;
  private pendingSince: number | null = null;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly backlogEveryMs: number;
  private readonly now: () => number;
  private stopped = false;
  private counter: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private wake: ((now: boolean) => void) | null = null;
  private poked = false;
  private failures = 0;
  private counting = false;
  private lastError: string | null = null;
  private lastFailureLog = Number.NEGATIVE_INFINITY;
  /** Ids the bus acknowledged whose row (or queue entry) is not done yet. */
  private readonly acked = new Set<string>();
  /** SQLite: the last row taken, and rows published but not yet deleted. */
  private cursor = 0;
  private pendingDelete: number[] = [];
  private lastDelete = 0;
  backlog = 0;

  constructor(
    private readonly opts: OutboxPublisherOptions,
    private readonly modules: OutboxPublisherModules,
  ) {
    this.batch = opts.batch ?? 256;
    this.idleMs = opts.idleMs ?? 200;
    this.lingerMs = opts.lingerMs ?? 20;
    this.window = Math.max(1, opts.window ?? 256);
    this.deleteEveryMs = opts.deleteEveryMs ?? 1000;
    this.quietMs = opts.quietMs ?? 50;
    this.maxDelayMs = opts.maxDelayMs ?? 5000;
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
    this.scheduleCount(0);
  }

  /** Looks at the outbox soon (after new events) instead of at the next poll. */
  poke(): void {
    this.lastActivity = this.now();
    this.pendingSince ??= this.lastActivity;
    this.poked = true;
    this.wake?.(false);
  }

  /** For /healthcheck: the bus is reachable and the outbox is not growing without bound. */
  status(): { connected: boolean; backlog: number; lastError: string | null } {
    return { connected: this.modules.bus.connected, backlog: this.backlog, lastError: this.lastError };
  }

  async stop(): Promise<void> {
    // events held only in memory (failover) get up to two seconds to go out while the bus is there
    const q = this.modules.queue;
    for (let i = 0; i < 100 && q != null && q.length > 0 && this.modules.bus.connected && this.loop !== null; i++) {
      this.poke();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopped = true;
    if (this.counter !== null) clearTimeout(this.counter);
    this.wake?.(true);
    await this.loop;
    await this.flushDeletes(true).catch(() => {});
    await this.modules.bus.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let published = 0;
      const defer = this.deferMs();
      if (defer > 0) {
        await this.sleep(defer, false);
        continue;
      }
      try {
        await this.modules.bus.ready();
        this.modules.metrics.connected.set(1);
        published = await this.round();
        // events published while decisions still flow: the next round waits for a pause (or maxDelayMs) again
        this.pendingSince = published === 0 ? null : this.now();
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
        await this.sleep(this.backoffMs(), false);
        continue;
      }
      if (published === 0) {
        await this.flushDeletes(false).catch(() => {});
        // a poke comes while the new events' transaction is still committing: look again shortly
        if (this.poked) {
          this.poked = false;
          await this.sleep(Math.max(5, this.lingerMs), false);
          continue;
        }
        await this.sleep(this.idleMs, true);
      }
    }
  }

  /** How long to wait before the next round: 0 unless events are flowing and the oldest is recent. */
  private deferMs(): number {
    if (this.pendingSince === null || this.stopped || this.backlog > CATCH_UP_BACKLOG) return 0;
    const now = this.now();
    const quietFor = now - this.lastActivity;
    const waited = now - this.pendingSince;
    if (quietFor >= this.quietMs || waited >= this.maxDelayMs) return 0;
    return Math.min(this.quietMs - quietFor, this.maxDelayMs - waited);
  }

  /** One round: the memory queue, then up to `batch` outbox rows. Returns how many events went out. */
  private async round(): Promise<number> {
    let n = await this.drainQueue();
    const store = this.modules.store;
    if (store === null) return n;
    if (store.dialect === "postgres") {
      // the whole round in one transaction holding the outbox lock; new events are inserted meanwhile
      // (MVCC), only another publisher waits
      const r = await store.tx(async (tx) => {
        const rows = await tx.all<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1, 0) AS ok", [
          LockClass.EventOutbox,
        ]);
        if (rows[0]?.ok !== true) return { seqs: [], events: 0, error: null };
        const out = await this.publishRows(await outboxRepository.oldest(tx, this.batch));
        await outboxRepository.remove(tx, out.seqs);
        return out;
      });
      this.account(r.events);
      if (r.error !== null) throw r.error;
      return n + r.events;
    }
    // SQLite: a write transaction blocks every other writer, so the bus is never awaited inside one
    const rows = await store.tx((tx) => outboxRepository.oldest(tx, this.batch, this.cursor), { readOnly: true });
    const r = await this.publishRows(rows);
    for (const seq of r.seqs) this.pendingDelete.push(seq);
    if (r.seqs.length > 0) this.cursor = r.seqs[r.seqs.length - 1]!;
    this.account(r.events);
    await this.flushDeletes(false);
    if (r.error !== null) throw r.error;
    n += r.events;
    return n;
  }

  private async drainQueue(): Promise<number> {
    const q = this.modules.queue;
    if (q === undefined || q === null || q.length === 0) return 0;
    const events = q.peek(this.batch);
    const r = await this.publishEvents(events);
    for (const e of events.slice(0, r.acked)) this.acked.delete(e.msgId);
    q.drop(r.acked);
    this.modules.metrics.published.inc(r.acked);
    if (r.error !== null) throw r.error;
    return r.acked;
  }

  /** Publishes the rows' events in order until the first failure; returns the rows completed. */
  private async publishRows(all: readonly OutboxRow[]): Promise<{ seqs: number[]; events: number; error: unknown }> {
    // building events is event-loop work: a round takes rows up to about ROUND_EVENTS events (at least one row)
    let n = 0;
    let planned = 0;
    while (n < all.length && (n === 0 || planned + Math.max(1, all[n]!.events) <= ROUND_EVENTS))
      planned += Math.max(1, all[n++]!.events);
    const rows = all.slice(0, n);
    const events: ReadyEvent[] = [];
    const ends: number[] = [];
    for (const row of rows) {
      try {
        for (const e of expandRow(row)) events.push(e);
      } catch (e) {
        // a row this version cannot read would stop the outbox for ever: log it and leave it out
        this.modules.logger.error("Unreadable outbox row skipped", { seq: row.seq }, e);
      }
      ends.push(events.length);
    }
    const r = await this.publishEvents(events);
    const seqs: number[] = [];
    let done = 0;
    rows.forEach((row, i) => {
      if (ends[i]! <= r.acked) {
        seqs.push(row.seq);
        done = ends[i]!;
      }
    });
    for (const e of events.slice(0, done)) this.acked.delete(e.msgId);
    return { seqs, events: done, error: r.error };
  }

  private publishEvents(events: readonly ReadyEvent[]): Promise<{ acked: number; error: unknown }> {
    return publishInWindows(this.modules.bus, events, {
      acked: this.acked,
      window: this.window,
      stopped: () => this.stopped,
    });
  }

  /** SQLite: deletes published rows, at most once per deleteEveryMs unless forced or many are waiting. */
  private async flushDeletes(force: boolean): Promise<void> {
    const store = this.modules.store;
    if (store === null || this.pendingDelete.length === 0) return;
    if (!force && this.now() - this.lastDelete < this.deleteEveryMs && this.pendingDelete.length < 4096) return;
    const seqs = this.pendingDelete;
    this.pendingDelete = [];
    this.lastDelete = this.now();
    try {
      if (this.modules.removeRows !== undefined) await this.modules.removeRows(seqs);
      else await store.tx((tx) => outboxRepository.remove(tx, seqs));
    } catch (e) {
      this.pendingDelete = seqs.concat(this.pendingDelete);
      throw e;
    }
  }

  private account(n: number): void {
    if (n === 0) return;
    this.modules.metrics.published.inc(n);
    this.backlog = Math.max(0, this.backlog - n);
    this.modules.metrics.backlog.set(this.backlog);
  }

  /**
   * Counts the outbox (rows not yet taken) and tells the sink whether it is full. A count that took long
   * (a large backlog on SQLite is a scan in the event loop) spaces the next one out: at most 2% of the time.
   */
  private scheduleCount(delayMs: number): void {
    this.counter = setTimeout(() => {
      const t0 = performance.now();
      void this.refreshBacklog()
        .catch(() => {})
        .finally(() => {
          if (!this.stopped) this.scheduleCount(Math.max(10, this.backlogEveryMs, 50 * (performance.now() - t0)));
        });
    }, delayMs);
    this.counter.unref();
  }

  private async refreshBacklog(): Promise<void> {
    const store = this.modules.store;
    if (this.counting) return;
    this.counting = true;
    try {
      const now = this.now();
      const b =
        store === null
          ? { count: 0, oldestMs: null }
          : await store.tx((tx) => outboxRepository.backlog(tx, store.dialect === "sqlite" ? this.cursor : 0), {
              readOnly: true,
            });
      const queued = this.modules.queue?.length ?? 0;
      this.backlog = b.count + queued;
      this.modules.metrics.backlog.set(this.backlog);
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

  /** Sleeps `ms`; a poke ends an idle sleep after lingerMs (`pokeable`), stop() ends any sleep at once. */
  private sleep(ms: number, pokeable: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      let t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = (now) => {
        if (!now && !pokeable) return;
        this.wake = null;
        if (now) return done();
        clearTimeout(t);
        t = setTimeout(done, this.lingerMs);
      };
    });
  }
}
