import type { AlertSink } from "../router.js";
import type { AlertNotification } from "../types.js";
import { textOf, titleOf } from "./format.js";
import { postJson } from "./httpPost.js";

/** Generic webhook: POSTs the notification as JSON (`{action, reminder, owner, alert}`). */
export class WebhookSink implements AlertSink {
  readonly type = "webhook";
  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async send(n: AlertNotification, signal: AbortSignal): Promise<void> {
    await postJson(this.name, this.url, n, { headers: this.headers, signal });
  }
}

/** Slack incoming webhook: `{text}`. */
export class SlackSink implements AlertSink {
  readonly type = "slack";
  constructor(
    readonly name: string,
    private readonly url: string,
  ) {}

  async send(n: AlertNotification, signal: AbortSignal): Promise<void> {
    await postJson(this.name, this.url, { text: textOf(n) }, { signal });
  }
}

/** Discord webhook: `{content}` (2,000 characters at most); 429 bodies carry retry_after in seconds. */
export class DiscordSink implements AlertSink {
  readonly type = "discord";
  constructor(
    readonly name: string,
    private readonly url: string,
  ) {}

  async send(n: AlertNotification, signal: AbortSignal): Promise<void> {
    await postJson(
      this.name,
      this.url,
      { content: textOf(n).slice(0, 2000), allowed_mentions: { parse: [] } },
      { signal, retryAfterFromBody: (b) => numberAt(b, ["retry_after"]) },
    );
  }
}

/** Telegram bot: sendMessage to one chat; 429 bodies carry parameters.retry_after in seconds. */
export class TelegramSink implements AlertSink {
  readonly type = "telegram";
  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly botToken: string,
    private readonly chatId: string,
  ) {}

  async send(n: AlertNotification, signal: AbortSignal): Promise<void> {
    await postJson(
      this.name,
      `${this.baseUrl.replace(/\/+$/, "")}/bot${this.botToken}/sendMessage`,
      { chat_id: this.chatId, text: textOf(n).slice(0, 4096), disable_web_page_preview: true },
      { signal, retryAfterFromBody: (b) => numberAt(b, ["parameters", "retry_after"]) },
    );
  }
}

const PD_SEVERITY: Record<string, string> = { critical: "critical", warning: "warning", info: "info" };

/** PagerDuty Events API v2: trigger, acknowledge and resolve share the alert's dedup key. */
export class PagerDutySink implements AlertSink {
  readonly type = "pagerduty";
  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly routingKey: string,
  ) {}

  async send(n: AlertNotification, signal: AbortSignal): Promise<void> {
    const a = n.alert;
    const body: Record<string, unknown> = {
      routing_key: this.routingKey,
      event_action: n.action,
      dedup_key: `slashguard-${a.dedup_key.slice(0, 64)}`,
    };
    if (n.action === "trigger") {
      body.payload = {
        summary: titleOf(n).slice(0, 1024),
        source: a.hosts.join(",").slice(0, 255) || "slashguard",
        severity: PD_SEVERITY[a.severity] ?? "error",
        component: a.chain ?? "fleet",
        group: n.owner ?? undefined,
        class: a.kind,
        custom_details: {
          alert_id: a.id,
          pubkey: a.pubkey,
          hosts: a.hosts,
          confidence: a.confidence,
          evidence: a.evidence,
        },
      };
    }
    await postJson(this.name, `${this.baseUrl.replace(/\/+$/, "")}/v2/enqueue`, body, { signal });
  }
}

function numberAt(body: unknown, path: readonly string[]): number | null {
  let v: unknown = body;
  for (const p of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null;
}
