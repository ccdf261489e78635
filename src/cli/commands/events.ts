import type { Command } from "commander";
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, tailEvents } from "../../events/index.js";
import { parsePositiveInt } from "../options.js";
import { shutdownSignal } from "../run.js";

/** `slashguard events tail`: the signer's decisions from NATS JetStream as JSON lines (docs/events.md). */
export function registerEventsCommands(program: Command): void {
  const events = program.command("events").description("signing decisions on the message bus (NATS JetStream)");
  events
    .command("tail")
    .description("print the events of the stream as JSON lines, one per event, in stream order")
    .option("--url <url>", "NATS server", "nats://127.0.0.1:4222")
    .option("--stream <name>", "JetStream stream", DEFAULT_STREAM)
    .option("--subject <filter>", "subject filter, e.g. slashguard.sign.ethereum.>", `${DEFAULT_SUBJECT_PREFIX}.>`)
    .option("--count <n>", "exit after n events", parsePositiveInt)
    .action(async (o: { url: string; stream: string; subject: string; count?: number }) => {
      await tailEvents(
        {
          url: o.url,
          stream: o.stream,
          subject: o.subject,
          ...(o.count === undefined ? {} : { count: o.count }),
        },
        (line) => process.stdout.write(`${line}\n`),
        shutdownSignal(),
      );
    });
}
