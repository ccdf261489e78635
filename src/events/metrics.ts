import { Counter, Gauge, type Registry } from "prom-client";

/** Metrics of the message-bus outbox and its publisher (docs/events.md), in the main thread's registry. */
export interface EventMetrics extends EventCounters {
  backlog: Gauge;
  oldestAge: Gauge;
  published: Counter;
  publishFailures: Counter;
  dropped: Counter;
  connected: Gauge;
  restarts: Counter;
}

/**
 * What the outbox, the queue and the publisher do with the metrics: the registry's metrics in the main
 * thread, a mirror reported to the main thread in the publisher's thread (publisherWorker.ts).
 */
export interface EventCounters {
  backlog: { set(value: number): void };
  oldestAge: { set(value: number): void };
  published: { inc(value?: number): void };
  publishFailures: { inc(value?: number): void };
  dropped: { inc(value?: number): void };
  connected: { set(value: number): void };
}

export function createEventMetrics(registry: Registry): EventMetrics {
  return {
    backlog: new Gauge({
      name: "slashguard_events_outbox_events",
      help: "Events waiting in the outbox for the message bus",
      registers: [registry],
    }),
    oldestAge: new Gauge({
      name: "slashguard_events_outbox_oldest_age_seconds",
      help: "Age of the oldest event waiting in the outbox (0 when empty)",
      registers: [registry],
    }),
    published: new Counter({
      name: "slashguard_events_published_total",
      help: "Events the message bus acknowledged (duplicates it discarded included)",
      registers: [registry],
    }),
    publishFailures: new Counter({
      name: "slashguard_events_publish_failures_total",
      help: "Failed attempts to connect to or publish on the message bus (each is retried with backoff)",
      registers: [registry],
    }),
    dropped: new Counter({
      name: "slashguard_events_dropped_total",
      help: "Events not written because the outbox was full (signing went on)",
      registers: [registry],
    }),
    connected: new Gauge({
      name: "slashguard_events_connected",
      help: "1 while the publisher is connected to the message bus and its stream exists",
      registers: [registry],
    }),
    restarts: new Counter({
      name: "slashguard_events_publisher_restarts_total",
      help: "Times the publisher thread stopped unexpectedly and was started again (signing is not affected)",
      registers: [registry],
    }),
  };
}
