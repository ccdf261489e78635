import type { Worker } from "node:worker_threads";
import { outboxRepository, type Store } from "../store/index.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { startModuleWorker } from "../util/moduleWorker.js";
import type { MemoryEventQueue } from "./memoryQueue.js";
import type { EventMetrics } from "./metrics.js";
import type { NatsBusOptions } from "./natsBus.js";
import type { EventPublisher, OutboxPublisherOptions } from "./outboxPublisher.js";
import type {
  FromPublisherWorker,
  PublisherWorkerData,
  PublisherWorkerStatus,
  ToPublisherWorker,
} from "./publisherWorker.js";

/** A burst of decisions nudges the thread once per this many milliseconds at most (a postMessage each). */
const POKE_EVERY_MS = 5;
/** stop(): the thread's last round and its bus close get this long, then it is ended. */
const STOP_TIMEOUT_MS = 15_000;
/** A thread that ran this long before it stopped restarts after the shortest delay again. */
const HEALTHY_RUN_MS = 60_000;

export interface PublisherThreadOptions {
  /** The store's URL with its credentials (the thread opens its own connection); null: no outbox. */
  storeUrl: string | null;
  bus: NatsBusOptions;
  publisher: OutboxPublisherOptions;
  /** Memory-queue bound inside the thread. */
  queueMax: number;
  /** Restart delays after the thread stopped unexpectedly: doubling from min to max. */
  minRestartMs?: number;
  maxRestartMs?: number;
}

export interface PublisherThreadModules {
  /** The signer's store: SQLite deletes of published rows run on its connection. */
  store: Store | null;
  /** Events without a store transaction (failover), handed to the thread. */
  queue: MemoryEventQueue | null;
  logger: Logger;
  metrics: EventMetrics;
  onFull: (full: boolean) => void;
}

/**
 * The outbox publisher (OutboxPublisher) in a worker thread of its own (publisherWorker.ts) with its own
 * store and NATS connections: the signer's event loop only writes the outbox row in the decision's
 * transaction, posts a nudge now and then, and mirrors the thread's status into its metrics and health.
 * A thread that stops unexpectedly is logged, counted (slashguard_events_publisher_restarts_total, and as
 * a failed attempt in slashguard_events_publish_failures_total) and
 * started again with backoff; the rows it had not deleted stay in the outbox and go out again, which the
 * stream's de-duplication absorbs. Signing never waits for it.
 */
export class PublisherThread implements EventPublisher {
  private worker: Worker | null = null;
  private started = false;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private restarts = 0;
  private startedAt = 0;
  private lastPoke = Number.NEGATIVE_INFINITY;
  /** Counter totals of the running thread already added to the registry. */
  private seen = { published: 0, failures: 0, dropped: 0 };
  private state: { connected: boolean; backlog: number; lastError: string | null } = {
    connected: false,
    backlog: 0,
    lastError: null,
  };
  /** SQLite deletes asked for by the thread, in order. */
  private removals: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: PublisherThreadOptions,
    private readonly modules: PublisherThreadModules,
  ) {
    if (modules.queue !== null) modules.queue.onQueued = () => this.forwardQueue();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.spawn();
  }

  poke(): void {
    const t = performance.now();
    if (t - this.lastPoke < POKE_EVERY_MS) return;
    this.lastPoke = t;
    this.post({ t: "poke" });
  }

  status(): { connected: boolean; backlog: number; lastError: string | null } {
    return { ...this.state, connected: this.state.connected && this.worker !== null };
  }

  /** The thread's worker thread id (null while none runs), for tests and logs. */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  /** Ends the thread as a crash would (tests). */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    const w = this.worker;
    if (w !== null) {
      this.forwardQueue();
      const exited = new Promise<void>((r) => w.once("exit", () => r()));
      this.post({ t: "stop" });
      const timer = setTimeout(() => {
        this.modules.logger.warn("Event publisher thread did not stop in time; ended", { ms: STOP_TIMEOUT_MS });
        void w.terminate();
      }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await this.removals;
    this.state.connected = false;
    this.modules.metrics.connected.set(0);
  }

  private spawn(): void {
    const data: PublisherWorkerData = {
      storeUrl: this.opts.storeUrl,
      bus: this.opts.bus,
      publisher: this.opts.publisher,
      queueMax: this.opts.queueMax,
    };
    const w = startModuleWorker(import.meta.url, "./publisherWorker.js", { workerData: data });
    this.worker = w;
    this.startedAt = Date.now();
    this.seen = { published: 0, failures: 0, dropped: 0 };
    w.on("message", (m: FromPublisherWorker) => this.onMessage(w, m));
    w.on("error", (e) => this.onExit(w, errorMessage(e)));
    w.on("exit", (code) => this.onExit(w, `exit code ${code}`));
    this.forwardQueue();
  }

  private onMessage(w: Worker, m: FromPublisherWorker): void {
    if (w !== this.worker) return;
    const logger = this.modules.logger;
    switch (m.t) {
      case "status":
        this.mirror(m.status);
        break;
      case "log":
        if (m.level === "error") logger.error(m.message, m.context, m.error);
        else if (m.level === "warn") logger.warn(m.message, m.context, m.error);
        else logger[m.level](m.message, m.context);
        break;
      case "remove": {
        const store = this.modules.store;
        if (store === null) break;
        // a failed delete leaves the rows: they go out again after a restart, and de-duplication absorbs them
        this.removals = this.removals
          .then(() => store.tx((tx) => outboxRepository.remove(tx, m.seqs)))
          .catch((e) => logger.warn("Deleting published outbox rows failed", { rows: m.seqs.length }, e));
        break;
      }
      case "stopped":
        void w.terminate();
        break;
    }
  }

  private mirror(s: PublisherWorkerStatus): void {
    const m = this.modules.metrics;
    if (s.published > this.seen.published) m.published.inc(s.published - this.seen.published);
    if (s.failures > this.seen.failures) m.publishFailures.inc(s.failures - this.seen.failures);
    if (s.dropped > this.seen.dropped) m.dropped.inc(s.dropped - this.seen.dropped);
    this.seen = { published: s.published, failures: s.failures, dropped: s.dropped };
    m.backlog.set(s.backlog);
    m.oldestAge.set(s.oldestAge);
    m.connected.set(s.connected ? 1 : 0);
    this.state = { connected: s.connected, backlog: s.backlog, lastError: s.lastError };
    this.modules.onFull(s.full);
  }

  private onExit(w: Worker, why: string): void {
    if (w !== this.worker) return;
    this.worker = null;
    if (this.stopping) return;
    const ranMs = Date.now() - this.startedAt;
    if (ranMs >= HEALTHY_RUN_MS) this.restarts = 0;
    const min = this.opts.minRestartMs ?? 1000;
    const delay = Math.min(this.opts.maxRestartMs ?? 60_000, min * 2 ** Math.min(this.restarts, 20));
    this.restarts++;
    this.state = { ...this.state, connected: false, lastError: `publisher thread stopped: ${why}` };
    this.modules.metrics.connected.set(0);
    this.modules.metrics.restarts.inc();
    // a failed attempt as well: SlashguardEventsPublishFailing fires on a thread that keeps dying
    this.modules.metrics.publishFailures.inc();
    this.modules.logger.error("Event publisher thread stopped; starting it again", { why, inMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.spawn();
    }, delay);
    this.restartTimer.unref();
  }

  /** Hands the memory queue's events to the running thread (they wait here while none runs). */
  private forwardQueue(): void {
    const q = this.modules.queue;
    if (q === null || q.length === 0 || this.worker === null) return;
    const events = q.peek(q.length);
    q.drop(events.length);
    this.post({ t: "queue", events });
  }

  private post(m: ToPublisherWorker): void {
    this.worker?.postMessage(m);
  }
}
