import { afterEach, describe, expect, it } from "vitest";
import { type RunningMonitor, startMonitor } from "../../src/cli/monitor/startMonitor.js";
import { freshStoreUrl } from "../utils/stores.js";

/**
 * Issue 15 item 10: deeply nested JSON in an event's evidence answered 500 (JSON.stringify overflowed
 * the stack). Nesting depth is bounded when any JSON body is parsed: a typed 400, nothing stored.
 */
const nested = (depth: number, open = "[", close = "]"): string => `${open.repeat(depth)}${close.repeat(depth)}`;
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

describe("deeply nested JSON bodies", () => {
  let m: RunningMonitor | null = null;
  let cleanup: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await m?.stop();
    await cleanup?.();
    m = null;
  });

  it("answer 400 ERR_JSON_TOO_DEEP on every JSON route, and the process keeps serving", async () => {
    const s = await freshStoreUrl("sqlite");
    cleanup = s.cleanup;
    m = await startMonitor({
      db: s.url,
      port: 0,
      logLevel: "silent",
      configDoc: { monitor: { sweep_interval: 3_600_000, dashboard: false } },
    });
    const agent = (await m.tokens.create("alice", "agent")).token;
    const operator = (await m.tokens.create("alice", "operator")).token;
    const post = async (path: string, token: string, body: string) => {
      const r = await fetch(`${m!.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      return { status: r.status, json: (await r.json()) as any };
    };
    const event = (evidence: string) =>
      `{"events":[{"action":"raise","kind":"doppelganger_check_failed","pubkey":null,"source":"s","confidence":1,"summary":"x","evidence":${evidence}}]}`;

    for (const [name, path, token, body] of [
      ["evidence, arrays 100000 deep", "/api/v1/agent/events", agent, event(`{"x":${nested(100_000)}}`)],
      ["evidence, objects 20000 deep", "/api/v1/agent/events", agent, event(deepObject(20_000))],
      ["evidence, 65 levels in all", "/api/v1/agent/events", agent, event(`{"x":${nested(61)}}`)],
      ["a report", "/api/v1/agent/reports", agent, nested(50_000)],
      ["an alert action", "/api/v1/alerts/1/resolve", operator, deepObject(5000)],
    ] as const) {
      const r = await post(path, token, body);
      expect([r.status, r.json.code], name).toEqual([400, "ERR_JSON_TOO_DEEP"]);
    }
    // 64 levels in all is the limit, still taken
    expect((await post("/api/v1/agent/events", agent, event(`{"x":${nested(60)}}`))).status).toBe(202);
    // brackets inside strings are text, not nesting
    const text = await post("/api/v1/agent/events", agent, event(`{"x":"${'[{\\"'.repeat(2000)}"}`));
    expect(text.status).toBe(202);
    // nothing of the refused events was stored; only the accepted one is there
    const alerts = await fetch(`${m.url}/api/v1/alerts`, { headers: { authorization: `Bearer ${operator}` } });
    expect(((await alerts.json()) as any).data).toHaveLength(1); // one check_failed alert of source "s", refreshed
    expect((await fetch(`${m.url}/healthcheck`)).status).toBe(200);
  });
});
