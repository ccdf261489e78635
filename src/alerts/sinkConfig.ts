import { readFileSync } from "node:fs";
import { z } from "zod";
import { AppError } from "../util/errors.js";
import { DEFAULT_POLICY, type RoutedSink, type SinkPolicy } from "./router.js";
import { EmailSink } from "./sinks/emailSink.js";
import { DiscordSink, PagerDutySink, SlackSink, TelegramSink, WebhookSink } from "./sinks/webhookSinks.js";

const DURATION_RE = /^([0-9]+)(ms|s|m|h)$/;
const duration = z
  .union([z.number().int().nonnegative(), z.string().regex(DURATION_RE, "a duration such as 500ms, 15s, 2m or 1h")])
  .transform((v) => (typeof v === "number" ? v : parseDurationText(v)));

const common = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  kinds: z.array(z.string()).optional(),
  min_severity: z.enum(["info", "warning", "critical"]).optional(),
  owners: z.array(z.string()).optional(),
  send_resolved: z.boolean().default(true),
  rate: z
    .object({
      per_second: z.number().positive().max(1000).optional(),
      burst: z.number().int().min(1).max(1000).optional(),
    })
    .optional(),
  retry: z
    .object({
      max_attempts: z.number().int().min(1).max(100).default(DEFAULT_POLICY.maxAttempts),
      initial_backoff: duration.default(DEFAULT_POLICY.initialBackoffMs),
      max_backoff: duration.default(DEFAULT_POLICY.maxBackoffMs),
    })
    .optional(),
};
const url = z.string().url();
/** A secret is given inline or, better, as a file the monitor reads at start (never logged). */
const secret = (field: string) => ({
  [field]: z.string().min(1).optional(),
  [`${field}_file`]: z.string().min(1).optional(),
});

export const sinkSchema = z.discriminatedUnion("type", [
  z
    .object({ type: z.literal("webhook"), url, headers: z.record(z.string(), z.string()).optional(), ...common })
    .strict(),
  z.object({ type: z.literal("slack"), url, ...common }).strict(),
  z.object({ type: z.literal("discord"), url, ...common }).strict(),
  z
    .object({
      type: z.literal("telegram"),
      base_url: url.default("https://api.telegram.org"),
      chat_id: z.union([z.string(), z.number().int()]).transform(String),
      ...secret("bot_token"),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal("pagerduty"),
      base_url: url.default("https://events.pagerduty.com"),
      ...secret("routing_key"),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal("email"),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(587),
      secure: z.boolean().default(false),
      starttls: z.boolean().default(false),
      user: z.string().optional(),
      ...secret("password"),
      from: z.string().min(3),
      to: z.array(z.string().min(3)).min(1),
      ...common,
    })
    .strict(),
]);

export const sinksSchema = z.array(sinkSchema).default([]);
export type SinkConfig = z.infer<typeof sinkSchema>;

export class SinkConfigError extends AppError<{ code: "ERR_CONFIG_INVALID"; sink: string }> {}

/** Builds the configured sinks; `--webhook URL` adds a generic webhook named "webhook". */
export function buildSinks(configs: readonly SinkConfig[], webhookUrl?: string): RoutedSink[] {
  const all = [...configs];
  if (webhookUrl !== undefined) all.push(sinkSchema.parse({ type: "webhook", url: webhookUrl, name: "webhook" }));
  const counts = new Map<string, number>();
  return all.map((c) => {
    const n = (counts.get(c.type) ?? 0) + 1;
    counts.set(c.type, n);
    const name = c.name ?? (n === 1 ? c.type : `${c.type}-${n}`);
    return { sink: buildSink(name, c), policy: policyOf(c) };
  });
}

function buildSink(name: string, c: SinkConfig): RoutedSink["sink"] {
  const cfg = c as Record<string, unknown>;
  switch (c.type) {
    case "webhook":
      return new WebhookSink(name, c.url, c.headers ?? {});
    case "slack":
      return new SlackSink(name, c.url);
    case "discord":
      return new DiscordSink(name, c.url);
    case "telegram":
      return new TelegramSink(name, c.base_url, readSecret(name, cfg, "bot_token"), c.chat_id);
    case "pagerduty":
      return new PagerDutySink(name, c.base_url, readSecret(name, cfg, "routing_key"));
    case "email": {
      const password =
        cfg.password !== undefined || cfg.password_file !== undefined ? readSecret(name, cfg, "password") : undefined;
      return new EmailSink(name, {
        host: c.host,
        port: c.port,
        secure: c.secure,
        requireTls: c.starttls,
        ...(c.user === undefined ? {} : { user: c.user }),
        ...(password === undefined ? {} : { password }),
        from: c.from,
        to: c.to,
      });
    }
  }
}

/** Default rate per sink type: chat services limit bots (Telegram: 1 message/s per chat); machines take more. */
const DEFAULT_RATE: Record<SinkConfig["type"], { perSecond: number; burst: number }> = {
  webhook: { perSecond: 10, burst: 50 },
  pagerduty: { perSecond: 10, burst: 50 },
  slack: { perSecond: 1, burst: 5 },
  discord: { perSecond: 1, burst: 5 },
  telegram: { perSecond: 1, burst: 1 },
  email: { perSecond: 1, burst: 10 },
};

function policyOf(c: SinkConfig): SinkPolicy {
  const p: SinkPolicy = {
    ratePerSecond: c.rate?.per_second ?? DEFAULT_RATE[c.type].perSecond,
    burst: c.rate?.burst ?? DEFAULT_RATE[c.type].burst,
    maxAttempts: c.retry?.max_attempts ?? DEFAULT_POLICY.maxAttempts,
    initialBackoffMs: c.retry?.initial_backoff ?? DEFAULT_POLICY.initialBackoffMs,
    maxBackoffMs: c.retry?.max_backoff ?? DEFAULT_POLICY.maxBackoffMs,
  };
  if (c.kinds !== undefined) p.kinds = c.kinds;
  if (c.min_severity !== undefined) p.minSeverity = c.min_severity;
  if (c.owners !== undefined) p.owners = c.owners;
  p.actions = c.send_resolved ? ["trigger", "acknowledge", "resolve"] : ["trigger"];
  if (c.type !== "pagerduty" && c.type !== "webhook") p.actions = p.actions.filter((a) => a !== "acknowledge");
  return p;
}

function readSecret(sink: string, cfg: Record<string, unknown>, field: string): string {
  const inline = cfg[field];
  const file = cfg[`${field}_file`];
  if (typeof inline === "string") return inline;
  if (typeof file === "string") {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (e) {
      throw new SinkConfigError(
        { code: "ERR_CONFIG_INVALID", sink },
        `sink ${sink}: cannot read ${field}_file: ${(e as Error).message}`,
      );
    }
  }
  throw new SinkConfigError(
    { code: "ERR_CONFIG_INVALID", sink },
    `sink ${sink}: ${field} or ${field}_file is required`,
  );
}

function parseDurationText(v: string): number {
  const m = DURATION_RE.exec(v)!;
  const n = Number(m[1]);
  return n * (m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : m[2] === "s" ? 1000 : 1);
}
