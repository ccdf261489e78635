import { hostname } from "node:os";
import type { Command } from "commander";
import type { Registry } from "prom-client";
import { z } from "zod";
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, validPrefix, validStreamName } from "../../events/eventFormat.js";
import { createEventMetrics } from "../../events/metrics.js";
import { NatsBus } from "../../events/natsBus.js";
import { OutboxPublisher } from "../../events/outboxPublisher.js";
import { OutboxSink } from "../../events/outboxSink.js";
import type { Store } from "../../store/types.js";
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

export function addEventsOptions(cmd: Command): void {
  cmd
    .option("--events <url>", "publish every signing decision to NATS JetStream at nats://HOST:PORT (docs/events.md)")
    .option("--events-stream <name>", `JetStream stream, created if missing (default ${DEFAULT_STREAM})`)
    .option("--events-subject-prefix <p>", `first subject level(s) (default ${DEFAULT_SUBJECT_PREFIX})`)
    .option("--events-instance <name>", "this signer's name in every event (default the host name)")
    .option(
      "--events-max-backlog <n>",
      `events the outbox holds while the bus is away; beyond, new ones are dropped and counted (default ${DEFAULT_MAX_BACKLOG})`,
      parsePositiveInt,
    );
}

export interface SignerEvents {
  sink: OutboxSink;
  publisher: OutboxPublisher;
  describe(): string;
}

/** The outbox sink and its publisher when --events (or `events.url`) is set; null otherwise. */
export function setUpEvents(
  flags: EventsFlags,
  config: Record<string, unknown>,
  configFile: string,
  modules: { store: Store; logger: Logger; registry: Registry },
): SignerEvents | null {
  const c = validateSection(EventsConfig, config.events, configFile, "events");
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
  const metrics = createEventMetrics(modules.registry);
  const sink = new OutboxSink(
    { subjectPrefix, instance: pick(flags.eventsInstance, c.instance, hostname()) },
    { logger, metrics },
  );
  const bus = new NatsBus({ url, stream, subjectPrefix }, { logger });
  const publisher = new OutboxPublisher(
    { maxBacklog: pick(flags.eventsMaxBacklog, c.max_backlog, DEFAULT_MAX_BACKLOG) },
    {
      store: modules.store,
      bus,
      logger,
      metrics,
      onFull: (full) => {
        sink.full = full;
      },
    },
  );
  sink.onRecorded = () => publisher.poke();
  return {
    sink,
    publisher,
    describe: () => `events to ${redactUrl(url)}, stream ${stream}, subjects ${subjectPrefix}.sign.<chain>.<key>`,
  };
}

/** nats://user:pass@host -> nats://host (logs and stdout never carry credentials). */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/,]*@/g, "//");
}
