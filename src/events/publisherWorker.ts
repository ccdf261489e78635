/**
 * The outbox publisher's thread (PublisherThread starts it): its own store connection and its own NATS
 * connection, so reading rows, building events and the NATS client's work never take the signer's event
 * loop. It reports metrics and status to the main thread (whose registry serves /metrics) and logs through
 * it; SQLite deletes go back to the main thread's connection (OutboxPublisherModules.removeRows).
 */
import { parentPort, workerData } from "node:worker_threads";
import { openStore, type Store } from "../store/index.js";
import { errorMessage } from "../util/errors.js";
import type { LogContext, Logger } from "../util/logger.js";
import type { ReadyEvent } from "./eventFormat.js";
import { MemoryEventQueue } from "./memoryQueue.js";
import type { EventCounters } from "./metrics.js";
import { NatsBus, type NatsBusOptions } from "./natsBus.js";
import { OutboxPublisher, type OutboxPublisherOptions } from "./outboxPublisher.js";

export interface PublisherWorkerData {
  /** null: no outbox (the failover daemon), the memory queue only. */
  storeUrl: string | null;
  bus: NatsBusOptions;
  publisher: OutboxPublisherOptions;
  queueMax: number;
}

export type ToPublisherWorker = { t: "poke" } | { t: "queue"; events: ReadyEvent[] } | { t: "stop" };

/** Counters are totals since this thread started; the main thread adds the differences to its registry. */
export interface PublisherWorkerStatus {
  connected: boolean;
  backlog: number;
  oldestAge: number;
  lastError: string | null;
  full: boolean;
  published: number;
  failures: number;
  dropped: number;
}

export type FromPublisherWorker =
  | { t: "status"; status: PublisherWorkerStatus }
  | { t: "log"; level: "debug" | "info" | "warn" | "error"; message: string; context?: LogContext; error?: string }
  | { t: "remove"; seqs: number[] }
  | { t: "stopped" };

/** Status reports at most this often while something changes, and at least once per REPORT_EVERY_MS. */
const REPORT_DELAY_MS = 100;
const REPORT_EVERY_MS = 1000;

if (parentPort !== null) serve(parentPort, workerData as PublisherWorkerData);

function serve(port: NonNullable<typeof parentPort>, data: PublisherWorkerData): void {
  const post = (m: FromPublisherWorker): void => port.postMessage(m);
  const st: PublisherWorkerStatus = {
    connected: false,
    backlog: 0,
    oldestAge: 0,
    lastError: null,
    full: false,
    published: 0,
    failures: 0,
    dropped: 0,
  };
  let publisher: OutboxPublisher | null = null;
  let reportTimer: NodeJS.Timeout | null = null;
  const report = (): void => {
    if (reportTimer !== null) clearTimeout(reportTimer);
    reportTimer = null;
    const s = publisher?.status();
    if (s !== undefined) {
      st.connected = s.connected;
      st.lastError = s.lastError;
    }
    post({ t: "status", status: { ...st } });
  };
  const changed = (): void => {
    reportTimer ??= setTimeout(report, REPORT_DELAY_MS);
  };
  const gauge = (k: "backlog" | "oldestAge") => ({
    set: (v: number): void => {
      st[k] = v;
      changed();
    },
  });
  const counter = (k: "published" | "failures" | "dropped") => ({
    inc: (v = 1): void => {
      st[k] += v;
      changed();
    },
  });
  const metrics: EventCounters = {
    backlog: gauge("backlog"),
    oldestAge: gauge("oldestAge"),
    connected: {
      set: (v) => {
        st.connected = v === 1;
        changed();
      },
    },
    published: counter("published"),
    publishFailures: counter("failures"),
    dropped: counter("dropped"),
  };
  const log =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, context?: LogContext, error?: unknown): void => {
      const m: FromPublisherWorker = { t: "log", level, message };
      if (context !== undefined) m.context = context;
      if (error !== undefined) m.error = errorMessage(error);
      try {
        post(m);
      } catch {
        post({ t: "log", level, message, ...(m.error === undefined ? {} : { error: m.error }) });
      }
    };
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: () => logger,
  };
  const queue = new MemoryEventQueue(data.queueMax, metrics);
  let stopRequested = false;
  let store: Store | null = null;
  const stop = async (): Promise<void> => {
    await publisher?.stop();
    await store?.close();
    report();
    post({ t: "stopped" });
    clearInterval(ticker);
    port.close();
  };
  port.on("message", (m: ToPublisherWorker) => {
    if (m.t === "poke") publisher?.poke();
    else if (m.t === "queue") for (const e of m.events) queue.push(e);
    else if (!stopRequested) {
      stopRequested = true;
      // before the publisher exists, start() below sees stopRequested and stops at once
      if (publisher !== null) void stop();
    }
  });
  const ticker = setInterval(report, REPORT_EVERY_MS);
  const start = async (): Promise<void> => {
    // SQLite: a second connection to the same WAL file; PostgreSQL: a small pool of its own
    store = data.storeUrl === null ? null : await openStore(data.storeUrl, { maxConnections: 2 });
    publisher = new OutboxPublisher(data.publisher, {
      store,
      queue,
      bus: new NatsBus(data.bus, { logger }),
      logger,
      metrics,
      onFull: (full) => {
        if (full !== st.full) {
          st.full = full;
          report();
        }
      },
      ...(store?.dialect === "sqlite" ? { removeRows: async (seqs: number[]) => post({ t: "remove", seqs }) } : {}),
    });
    const p = publisher;
    queue.onQueued = () => p.poke();
    p.start();
    if (queue.length > 0) p.poke();
    report();
    if (stopRequested) await stop();
  };
  start().catch((e: unknown) => {
    // the main thread sees the thread end with this error, logs it and starts a new one later
    process.nextTick(() => {
      throw e;
    });
  });
}
