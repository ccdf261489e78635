import type { Store } from "../store/index.js";
import { type NotificationRow, notificationsRepository } from "../store/index.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { TokenBucket } from "../util/tokenBucket.js";
import type { AlertMetrics } from "./metrics.js";
import type { AlertRouter, RoutedSink } from "./router.js";
import { SinkError } from "./sinks/sinkError.js";
import type { AlertNotification } from "./types.js";

export interface DispatcherOptions {
  /** How often the outbox is polled besides the kicks after each commit. */
  pollMs?: number;
  /** A claimed notification goes back to the queue after this (a crashed process's claims expire). */
  leaseMs?: number;
  /** Longest time one delivery may take. */
  sendTimeoutMs?: number;
  now?: () => number;
}

export interface DispatcherModules {
  store: Store;
  router: AlertRouter;
  logger: Logger;
  metrics?: AlertMetrics | null;
}

/**
 * Delivers the notification outbox: each sink in order of decision, within its rate limit, retrying
 * with exponential back-off (or the receiver's Retry-After) up to its attempt limit. Delivery is at
 * least once: a crash after sending and before marking sends again (PagerDuty dedups by dedup_key).
 */
export class NotificationDispatcher {
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly sendTimeoutMs: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, TokenBucket>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    opts: DispatcherOptions,
    private readonly modules: DispatcherModules,
  ) {
    this.pollMs = opts.pollMs ?? 1000;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.sendTimeoutMs = opts.sendTimeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Delivers what is due now (called after a transaction queued notifications). */
  kick(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.tick()
      .then(() => undefined)
      .catch((e) => this.modules.logger.error("Notification dispatch failed", {}, e))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.kick());
        } else this.timer = setTimeout(() => this.kick(), this.pollMs);
      });
  }

  /** Waits for the delivery in progress; claims not yet sent return to the queue when their lease ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One round: claim what is due and deliver it, sinks in parallel, each sink in order. */
  async tick(): Promise<number> {
    const due = await this.modules.store.tx((tx) =>
      notificationsRepository.claimDue(tx, this.now(), this.leaseMs, 100),
    );
    const bySink = new Map<string, NotificationRow[]>();
    for (const n of due) bySink.set(n.sink, [...(bySink.get(n.sink) ?? []), n]);
    await Promise.all([...bySink].map(([sink, rows]) => this.deliverAll(sink, rows)));
    if (due.length === 100) this.again = true;
    return due.length;
  }

  private async deliverAll(name: string, rows: NotificationRow[]): Promise<void> {
    const routed = this.modules.router.get(name);
    for (const row of rows) {
      if (routed === undefined) {
        await this.fail(row, {
          nextAt: this.now(),
          error: "no sink of this name is configured",
          dead: true,
          countAttempt: false,
        });
        continue;
      }
      const wait = this.bucket(routed).take();
      if (wait > 0) {
        // Over the rate limit: put it back for later without counting an attempt.
        await this.fail(row, { nextAt: this.now() + wait, error: "rate limited", dead: false, countAttempt: false });
        continue;
      }
      await this.deliver(routed, row);
    }
  }

  private async deliver(routed: RoutedSink, row: NotificationRow): Promise<void> {
    const { sink, policy } = routed;
    try {
      await sink.send(JSON.parse(row.payload) as AlertNotification, AbortSignal.timeout(this.sendTimeoutMs));
      await this.modules.store.tx((tx) => notificationsRepository.markSent(tx, row.id, this.now()));
      this.modules.metrics?.deliveries.inc({ sink: sink.name, result: "sent" });
      this.modules.logger.info("Notification sent", { sink: sink.name, alert: row.alertId, action: row.action });
    } catch (e) {
      const retryable = e instanceof SinkError ? e.type.retryable : true;
      const attempts = row.attempts + 1;
      const dead = !retryable || attempts >= policy.maxAttempts;
      const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempts - 1));
      const retryAfter = e instanceof SinkError ? e.type.retryAfterMs : null;
      const delay = Math.max(retryAfter ?? 0, backoff * (0.75 + Math.random() * 0.5));
      await this.fail(row, {
        nextAt: this.now() + Math.round(delay),
        error: errorMessage(e),
        dead,
        countAttempt: true,
      });
      this.modules.metrics?.deliveries.inc({ sink: sink.name, result: dead ? "dead" : "retry" });
      const log = dead
        ? this.modules.logger.error.bind(this.modules.logger)
        : this.modules.logger.warn.bind(this.modules.logger);
      log("Notification delivery failed", { sink: sink.name, alert: row.alertId, attempts, dead }, e);
    }
  }

  private async fail(
    row: NotificationRow,
    f: { nextAt: number; error: string; dead: boolean; countAttempt: boolean },
  ): Promise<void> {
    await this.modules.store.tx((tx) => notificationsRepository.markFailed(tx, row.id, f));
  }

  private bucket(r: RoutedSink): TokenBucket {
    let b = this.buckets.get(r.sink.name);
    if (b === undefined) {
      b = new TokenBucket(r.policy.ratePerSecond, r.policy.burst, this.now);
      this.buckets.set(r.sink.name, b);
    }
    return b;
  }
}
