import { describe, expect, it } from "vitest";
import { AlertStore } from "../../web/src/alerts/alertStore.js";
import { compareWorst, openCritical } from "../../web/src/alerts/kinds.js";
import { LiveFeed, type LiveState } from "../../web/src/alerts/liveFeed.js";
import { createClient } from "../../web/src/api/client.js";
import type { Alert } from "../../web/src/api/types.js";
import { alert, type FakeRequest, fakeApi, sseStream } from "./fakeApi.js";

const SERVER_NOW = Date.parse("2026-03-01T12:00:00.000Z");

describe("alert store", () => {
  it("loads every unresolved alert and polls what changed since, by the server's clock", async () => {
    const byStatus: Record<string, Alert[]> = {
      open: [alert(3), alert(1, { severity: "warning", kind: "agent_silent" })],
      acknowledged: [alert(2, { status: "acknowledged" })],
      suppressed: [],
    };
    let sinceAsked: string | null = null;
    const api = fakeApi(
      {
        "GET /api/v1/alerts": (r) => {
          if (r.query.has("since")) {
            sinceAsked = r.query.get("since");
            return { body: { data: [alert(3, { status: "resolved" })] } };
          }
          return { body: { data: byStatus[r.query.get("status")!] } };
        },
      },
      () => SERVER_NOW,
    );
    const store = new AlertStore(createClient("tok", { fetch: api.fetch }));
    await store.load();
    expect(store.getSnapshot().alerts.map((a) => a.id)).toEqual([3, 2, 1]);
    expect(api.calls.map((c) => c.query.get("status")).sort()).toEqual(["acknowledged", "open", "suppressed"]);
    expect(api.calls.every((c) => c.headers.get("authorization") === "Bearer tok")).toBe(true);
    await store.catchUp();
    // 5 s of overlap before the server's time of the load
    expect(sinceAsked).toBe(String(SERVER_NOW - 5000));
    expect(store.getSnapshot().alerts.find((a) => a.id === 3)!.status).toBe("resolved");
  });

  it("an action's answer shows at once and is not undone by a poll that started before it", async () => {
    let releasePoll!: () => void;
    const pollGate = new Promise<void>((r) => {
      releasePoll = r;
    });
    const api = fakeApi({
      "GET /api/v1/alerts": async (r) => {
        if (r.query.has("since")) {
          await pollGate; // answers late, with the state from before the acknowledgement
          return { body: { data: [alert(7)] } };
        }
        return { body: { data: r.query.get("status") === "open" ? [alert(7)] : [] } };
      },
      "POST /api/v1/alerts/:id/acknowledge": () => ({
        body: { data: alert(7, { status: "acknowledged", acknowledged_by: "alice" }) },
      }),
    });
    const store = new AlertStore(createClient("t", { fetch: api.fetch }));
    await store.load();
    const poll = store.catchUp();
    await store.acknowledge(7);
    expect(store.getSnapshot().alerts[0]!.status).toBe("acknowledged");
    releasePoll();
    await poll;
    expect(store.getSnapshot().alerts[0]!.status).toBe("acknowledged");
  });

  it("suppress sends the chosen end time", async () => {
    let body: unknown = null;
    const api = fakeApi({
      "GET /api/v1/alerts": () => ({ body: { data: [] } }),
      "POST /api/v1/alerts/:id/suppress": (r: FakeRequest) => {
        body = r.body;
        return { body: { data: alert(4, { status: "suppressed", suppressed_until: (r.body as any).until }) } };
      },
    });
    const store = new AlertStore(createClient("t", { fetch: api.fetch }));
    const until = new Date("2026-05-01T00:00:00.000Z");
    const a = await store.suppress(4, until);
    expect(body).toEqual({ until: "2026-05-01T00:00:00.000Z" });
    expect(a.status).toBe("suppressed");
    expect(store.getSnapshot().alerts).toEqual([a]);
  });

  it("the banner's choice: open critical alerts only, worst kind first", () => {
    const all = [
      alert(1, { kind: "key_moved", severity: "info" }),
      alert(2, { kind: "foreign_signer" }),
      alert(3, { kind: "double_active", status: "acknowledged" }),
      alert(4, { kind: "double_active" }),
      alert(5, { kind: "agent_silent", severity: "warning" }),
      alert(6, { kind: "double_active", status: "suppressed" }),
    ];
    expect(openCritical(all).map((a) => a.id)).toEqual([4, 2]);
    expect([...all].sort(compareWorst).map((a) => a.id)).toEqual([6, 4, 3, 2, 5, 1]);
  });
});

describe("live feed", () => {
  it("delivers alerts pushed on the feed, with the bearer token, after a catch-up", async () => {
    const sse = sseStream();
    const api = fakeApi({ "GET /api/v1/feed": () => sse.response() });
    const got: Alert[] = [];
    const states: LiveState[] = [];
    let catchUps = 0;
    const feed = new LiveFeed(
      createClient("tok", { fetch: api.fetch }),
      { onAlert: (a) => got.push(a), onState: (s) => states.push(s), catchUp: async () => void catchUps++ },
      { pollMs: 10, retryMs: 10, maxRetryMs: 10 },
    );
    void feed.start();
    sse.send(`: hello\n\nevent: alert\ndata: ${JSON.stringify(alert(9))}\n\nevent: alert\ndata: not json\n\n`);
    sse.send(`event: alert\ndata: ${JSON.stringify(alert(10))}\n\n`);
    await expect.poll(() => got.map((a) => a.id)).toEqual([9, 10]);
    expect(states).toEqual(["connecting", "live"]);
    expect(catchUps).toBe(1);
    expect(api.calls[0]!.headers.get("authorization")).toBe("Bearer tok");
    feed.stop();
  });

  it("polls while the feed is down and reconnects; a revoked token stops it", async () => {
    let feedCalls = 0;
    const api = fakeApi({
      "GET /api/v1/feed": () => {
        feedCalls++;
        return feedCalls < 3
          ? { status: 503, body: { code: "ERR_STORE_UNAVAILABLE", message: "x" } }
          : { status: 401, body: { code: "ERR_UNAUTHORIZED", message: "x" } };
      },
    });
    const states: LiveState[] = [];
    let catchUps = 0;
    let unauthorized = 0;
    const feed = new LiveFeed(
      createClient("t", { fetch: api.fetch, onUnauthorized: () => unauthorized++ }),
      { onAlert: () => {}, onState: (s) => states.push(s), catchUp: async () => void catchUps++ },
      { pollMs: 1, retryMs: 5, maxRetryMs: 5 },
    );
    await feed.start(); // returns once the token is refused
    expect(feedCalls).toBe(3);
    expect(states.filter((s) => s === "polling")).toHaveLength(2);
    expect(catchUps).toBeGreaterThanOrEqual(2);
    expect(unauthorized).toBe(1);
  });
});
