import { connect, type JsMsg } from "nats";

export interface TailOptions {
  url: string;
  stream: string;
  /** Subject filter (NATS wildcards: * one level, > the rest). */
  subject: string;
  /** Stop after this many messages (default: run until stopped). */
  count?: number;
}

/**
 * A consumer example (`slashguard events tail`): an ordered consumer on the stream from its first
 * message, one JSON line per message (the event as published) to `write`. Ordered consumers are ephemeral and re-created by the
 * client after a gap, so the lines come in stream order without duplicates.
 */
export async function tailEvents(
  opts: TailOptions,
  write: (line: string) => void,
  stop: Promise<unknown>,
): Promise<number> {
  const nc = await connect({ servers: opts.url.split(",").map((s) => s.trim()), name: "slashguard-events-tail" });
  let n = 0;
  try {
    // a single filter subject and the default deliver policy (all): what NATS 2.9 servers accept too
    const consumer = await nc.jetstream().consumers.get(opts.stream, { filterSubjects: opts.subject });
    const messages = await consumer.consume();
    void stop.then(() => messages.stop());
    for await (const m of messages as AsyncIterable<JsMsg>) {
      write(m.string());
      n++;
      if (opts.count !== undefined && n >= opts.count) break;
    }
    await messages.close();
  } finally {
    await nc.close();
  }
  return n;
}
