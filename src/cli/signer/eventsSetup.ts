import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Command } from "commander";
import type { Registry } from "prom-client";
import { z } from "zod";
import {
  createEventMetrics,
  DEFAULT_STREAM,
  DEFAULT_SUBJECT_PREFIX,
  type EventPublisher,
  failoverEvent,
  MemoryEventQueue,
  OutboxSink,
  PublisherThread,
  validPrefix,
  validStreamName,
} from "../../events/index.js";
import type { FailoverEvent, FailoverEvents } from "../../failover/index.js";
import type { Store } from "../../store/index.js";
import { jsonSafe } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import { ConfigError, ConfigErrorCode, pick, validateSection } from "../config.js";
import { parsePositiveInt } from "../options.js";

export const EventsConfig = z
  .object({
    url: z.string().optional(),
    stream: z.string().optional(),
    subject_prefix: z.string().optional(),
    instance: z.string().optional(),
    max_backlog: z.number().int().positive().optional(),
  })
  .strict();

export interface EventsFlags {
  events?: string;
  eventsStream?: string;
  eventsSubjectPrefix?: string;
  eventsInstance?: string;
  eventsMaxBacklog?: number;
}

export const DEFAULT_MAX_BACKLOG = 1_000_000;
/** Events of a source without a store (failover) held in memory while the bus is away. */
export const MEMORY_QUEUE_MAX = 10_000;

export function addEventsOptions(cmd: Command, what = "every signing decision"): void {
  cmd
    .option("--events <url>", `publish ${what} to NATS JetStream at nats://HOST:PORT (docs/events.md)`)
    .option("--events-stream <name>", `JetStream stream, created if missing (default ${DEFAULT_STREAM})`)
    .option("--events-subject-prefix <p>", `first subject level(s) (default ${DEFAULT_SUBJECT_PREFIX})`)
    .option("--events-instance <name>", "this process's name in every event (default the host name)")
    .option(
      "--events-max-backlog <n>",
      `events the outbox holds while the bus is away; beyond, new ones are dropped and counted (default ${DEFAULT_MAX_BACKLOG})`,
      parsePositiveInt,
    );
}

export interface SignerEvents {
  /** Writes into the store's outbox (null for a process without a store). */
  sink: OutboxSink | null;
  /** Events without a store transaction (failover). */
  queue: MemoryEventQueue;
  /** The outbox publisher, in a worker thread of its own (events/publisherThread.ts). */
  publisher: EventPublisher;
  instance: string;
  subjectPrefix: string;
  describe(): string;
}

/**
 * The message bus when --events (or `events.url`) is set; null otherwise. The event metrics are registered
 * either way (0 without --events), so dashboards and alert rules find them on every signer.
 */
export function setUpEvents(
  flags: EventsFlags,
  config: Record<string, unknown>,
  configFile: string,
  modules: {
    store: Store | null;
    /** The store's URL with its credentials, for the publisher thread's own connection (default store.url). */
    storeUrl?: string;
    logger: Logger;
    registry: Registry;
  },
  subjects = "sign.<chain>.<key>",
): SignerEvents | null {
  const c = validateSection(EventsConfig, config.events, configFile, "events");
  const metrics = createEventMetrics(modules.registry);
  const url = pick(flags.events, c.url, undefined);
  if (url === undefined) return null;
  const stream = pick(flags.eventsStream, c.stream, DEFAULT_STREAM);
  const subjectPrefix = pick(flags.eventsSubjectPrefix, c.subject_prefix, DEFAULT_SUBJECT_PREFIX);
  const bad = (path: string, msg: string): ConfigError =>
    new ConfigError({ code: ConfigErrorCode.Invalid, file: configFile, path }, msg);
  if (!/^(nats|tls):\/\/[^\s,]+(,\s*(nats|tls):\/\/[^\s,]+)*$/.test(url))
    throw bad("events.url", "--events must be nats://HOST:PORT (several separated by commas)");
  if (!validStreamName(stream)) throw bad("events.stream", "stream name: letters, digits, _ and - (at most 64)");
  if (!validPrefix(subjectPrefix))
    throw bad("events.subject_prefix", "subject prefix: tokens of letters, digits, _ and -");
  const logger = modules.logger.child({ component: "events" });
  const instance = pick(flags.eventsInstance, c.instance, hostname());
  const sink = modules.store === null ? null : new OutboxSink({ subjectPrefix, instance }, { logger, metrics });
  const queue = new MemoryEventQueue(MEMORY_QUEUE_MAX, metrics);
  const publisher = new PublisherThread(
    {
      storeUrl: modules.store === null ? null : (modules.storeUrl ?? modules.store.url),
      bus: { url, stream, subjectPrefix },
      publisher: { maxBacklog: pick(flags.eventsMaxBacklog, c.max_backlog, DEFAULT_MAX_BACKLOG) },
      queueMax: MEMORY_QUEUE_MAX,
    },
    {
      store: modules.store,
      queue,
      logger,
      metrics,
      onFull: (full) => {
        if (sink !== null) sink.full = full;
      },
    },
  );
  if (sink !== null) sink.onRecorded = () => publisher.poke();
  return {
    sink,
    queue,
    publisher,
    instance,
    subjectPrefix,
    describe: () => `events to ${redactUrl(url)}, stream ${stream}, subjects ${subjectPrefix}.${subjects}`,
  };
}

/** Failover events to the bus (memory queue: the failover has no store transaction), then to `next`. */
export function busFailoverEvents(events: SignerEvents, next: FailoverEvents, now = Date.now): FailoverEvents {
  return {
    emit(e: FailoverEvent): void {
      next.emit(e);
      const { kind, node, ...rest } = e;
      events.queue.push(
        failoverEvent(
          { event: kind, node, detail: jsonSafe(rest) as Record<string, unknown> },
          {
            id: randomUUID(),
            instance: events.instance,
            prefix: events.subjectPrefix,
            time: new Date(now()).toISOString(),
          },
        ),
      );
    },
  };
}

/** nats://user:pass@host -> nats://host (logs and stdout never carry credentials). */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/,]*@/g, "//");
}
