import { afterEach, describe, expect, it } from "vitest";
import { buildSinks, sinksSchema } from "../../../src/alerts/sinkConfig.js";
import { EmailSink } from "../../../src/alerts/sinks/emailSink.js";
import { SinkError } from "../../../src/alerts/sinks/sinkError.js";
import {
  DiscordSink,
  PagerDutySink,
  SlackSink,
  TelegramSink,
  WebhookSink,
} from "../../../src/alerts/sinks/webhookSinks.js";
import type { AlertNotification } from "../../../src/alerts/types.js";
import { parseRetryAfterMs } from "../../../src/util/retryAfter.js";
import { LoopbackServer, sendJson } from "../../utils/httpServer.js";
import { SmtpReceiver } from "../../utils/smtpReceiver.js";

const N: AlertNotification = {
  action: "trigger",
  reminder: false,
  owner: "alice",
  alert: {
    id: 7,
    kind: "double_active",
    severity: "critical",
    chain: "harmony",
    pubkey: `0x${"ab".repeat(48)}`,
    hosts: ["a", "b"],
    status: "open",
    confidence: 1,
    summary: "harmony key 0xabab…abab is actively signing on 2 hosts: a, b",
    evidence: { observations: [] },
    first_seen: "2025-01-01T00:00:00.000Z",
    last_seen: "2025-01-01T00:00:00.000Z",
    acknowledged_by: null,
    acknowledged_at: null,
    suppressed_until: null,
    resolved_by: null,
    resolved_at: null,
    dedup_key: "f".repeat(64),
  },
};
const signal = () => AbortSignal.timeout(5000);

describe("sinks against local receivers", () => {
  let server: LoopbackServer | null = null;
  let smtp: SmtpReceiver | null = null;
  afterEach(async () => {
    await server?.stop();
    await smtp?.stop();
    server = null;
    smtp = null;
  });
  const receiver = async (status = 200, body: unknown = { ok: true }) => {
    server = new LoopbackServer((_r, res) => sendJson(res, status, body));
    return server.start();
  };

  it("generic webhook posts the notification as JSON with its headers", async () => {
    const url = await receiver();
    await new WebhookSink("w", `${url}/hook`, { "x-token": "t" }).send(N, signal());
    const r = server!.requests[0]!;
    expect(r.url).toBe("/hook");
    expect(r.headers["x-token"]).toBe("t");
    expect(r.json).toEqual(N);
  });

  it("Slack gets {text}; Discord {content} within 2,000 characters", async () => {
    const url = await receiver();
    await new SlackSink("s", `${url}/slack`).send(N, signal());
    await new DiscordSink("d", `${url}/discord`).send(
      { ...N, alert: { ...N.alert, summary: "x".repeat(5000) } },
      signal(),
    );
    const [slack, discord] = server!.requests;
    expect((slack!.json as { text: string }).text).toContain("[CRITICAL] double_active");
    expect((discord!.json as { content: string }).content.length).toBe(2000);
  });

  it("Telegram: sendMessage on the configured base URL; 429 carries parameters.retry_after", async () => {
    const url = await receiver(429, { ok: false, error_code: 429, parameters: { retry_after: 3 } });
    const t = new TelegramSink("t", url, "123:ABC", "-100");
    const e = await t.send(N, signal()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SinkError);
    expect((e as SinkError).type).toMatchObject({ retryable: true, retryAfterMs: 3000, status: 429 });
    expect(server!.requests[0]!.url).toBe("/bot123:ABC/sendMessage");
    expect(server!.requests[0]!.json).toMatchObject({ chat_id: "-100" });
  });

  it("a receiver that cannot reach it: the bot token in the URL never reaches the error", async () => {
    const url = await receiver();
    await server!.stop();
    server = null;
    const e = (await new TelegramSink("t", url, "123456:AAsecretBotToken", "-100")
      .send(N, signal())
      .catch((x: unknown) => x)) as SinkError;
    expect(e.type).toMatchObject({ code: "ERR_SINK_DELIVERY", retryable: true });
    expect(`${e.message} ${JSON.stringify(e.toObject())}`).not.toContain("AAsecretBotToken");
  });

  it("an endless answer is read no further than the cap (retryable failure, not memory)", async () => {
    let written = 0;
    server = new LoopbackServer((_r, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      pump();
    });
    const url = await server.start();
    const e = (await new WebhookSink("w", url).send(N, signal()).catch((x: unknown) => x)) as SinkError;
    expect(e.type).toMatchObject({ code: "ERR_SINK_DELIVERY", retryable: true });
    // the cap plus socket buffers: a reader without a cap takes gigabytes before the deadline
    expect(written).toBeLessThan(64 << 20);
  });

  it("Discord 429 retry_after (seconds, fractional) is honoured", async () => {
    const url = await receiver(429, { message: "You are being rate limited.", retry_after: 0.25, global: false });
    const e = (await new DiscordSink("d", url).send(N, signal()).catch((x: unknown) => x)) as SinkError;
    expect(e.type.retryAfterMs).toBe(250);
  });

  it("PagerDuty Events v2: trigger with payload, resolve with the same dedup_key", async () => {
    const url = await receiver(202, { status: "success", dedup_key: "x" });
    const pd = new PagerDutySink("pd", url, "R0UTING");
    await pd.send(N, signal());
    await pd.send({ ...N, action: "resolve" }, signal());
    const [t, r] = server!.requests.map((x) => x.json as Record<string, unknown>);
    expect(server!.requests[0]!.url).toBe("/v2/enqueue");
    expect(t).toMatchObject({
      routing_key: "R0UTING",
      event_action: "trigger",
      payload: { severity: "critical", class: "double_active" },
    });
    expect(r).toMatchObject({ event_action: "resolve" });
    expect(r!.dedup_key).toBe(t!.dedup_key);
    expect(r!.payload).toBeUndefined();
  });

  it("4xx is permanent, 5xx and network errors are retryable", async () => {
    const url = await receiver(400, { error: "bad" });
    expect(((await new WebhookSink("w", url).send(N, signal()).catch((x) => x)) as SinkError).type.retryable).toBe(
      false,
    );
    server!.setHandler((_r, res) => sendJson(res, 503, {}));
    expect(((await new WebhookSink("w", url).send(N, signal()).catch((x) => x)) as SinkError).type.retryable).toBe(
      true,
    );
    await server!.stop();
    server = null;
    expect(((await new WebhookSink("w", url).send(N, signal()).catch((x) => x)) as SinkError).type.retryable).toBe(
      true,
    );
    expect(parseRetryAfterMs("2")).toBe(2000);
    expect(parseRetryAfterMs(null)).toBeNull();
  });

  it("e-mail over SMTP reaches a local receiver; a 550 is permanent, a 451 retryable", async () => {
    smtp = new SmtpReceiver();
    const port = await smtp.start();
    const mail = new EmailSink("mail", {
      host: "127.0.0.1",
      port,
      secure: false,
      requireTls: false,
      from: "sg@example.org",
      to: ["ops@example.org"],
    });
    try {
      await mail.send(N, signal());
      expect(smtp.mails).toHaveLength(1);
      expect(smtp.mails[0]!.to).toEqual(["ops@example.org"]);
      expect(smtp.mails[0]!.data).toContain("double_active");
      smtp.reject = 550;
      expect(((await mail.send(N, signal()).catch((x) => x)) as SinkError).type.retryable).toBe(false);
      smtp.reject = 451;
      expect(((await mail.send(N, signal()).catch((x) => x)) as SinkError).type.retryable).toBe(true);
    } finally {
      mail.close();
    }
  });

  it("YAML sink config: names, secrets from files, filters; --webhook adds a webhook", () => {
    const cfg = sinksSchema.parse([
      { type: "slack", url: "https://hooks.slack.test/x", min_severity: "critical" },
      { type: "telegram", chat_id: 42, bot_token: "1:x", base_url: "http://127.0.0.1:1" },
      { type: "pagerduty", routing_key: "r", rate: { per_second: 2, burst: 3 } },
      { type: "email", host: "smtp", to: ["a@b.c"], from: "x@y.z", send_resolved: false },
    ]);
    const sinks = buildSinks(cfg, "http://127.0.0.1:9/hook");
    expect(sinks.map((s) => [s.sink.name, s.sink.type])).toEqual([
      ["slack", "slack"],
      ["telegram", "telegram"],
      ["pagerduty", "pagerduty"],
      ["email", "email"],
      ["webhook", "webhook"],
    ]);
    expect(sinks[0]!.policy.minSeverity).toBe("critical");
    expect(sinks[2]!.policy).toMatchObject({
      ratePerSecond: 2,
      burst: 3,
      actions: ["trigger", "acknowledge", "resolve"],
    });
    expect(sinks[3]!.policy.actions).toEqual(["trigger"]);
    for (const s of sinks) if (s.sink instanceof EmailSink) s.sink.close();
    expect(() => buildSinks(sinksSchema.parse([{ type: "pagerduty" }]))).toThrow(
      expect.objectContaining({ code: "ERR_CONFIG_INVALID" }),
    );
    expect(sinksSchema.safeParse([{ type: "webhook", url: "not a url" }]).success).toBe(false);
    expect(sinksSchema.safeParse([{ type: "sms", to: "1" }]).success).toBe(false);
  });
});
