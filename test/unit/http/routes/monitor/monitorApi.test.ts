import { afterEach, describe, expect, it } from "vitest";
import { type RunningMonitor, startMonitor } from "../../../../../src/cli/monitor/startMonitor.js";
import { LoopbackServer, sendJson } from "../../../../utils/httpServer.js";
import { harmonyKey, hkey, report } from "../../../../utils/reports.js";
import { ENGINES, freshStoreUrl } from "../../../../utils/stores.js";

describe.each(ENGINES)("monitor HTTP API on %s", (engine) => {
  let m: RunningMonitor | null = null;
  let hook: LoopbackServer | null = null;
  let cleanup: (() => Promise<void>) | null = null;
  let tok: Record<string, string>;
  afterEach(async () => {
    await m?.stop();
    await hook?.stop();
    await cleanup?.();
    m = null;
    hook = null;
  });

  const start = async (monitorCfg: Record<string, unknown> = {}) => {
    const s = await freshStoreUrl(engine);
    cleanup = s.cleanup;
    hook = new LoopbackServer((_r, res) => sendJson(res, 200, {}));
    const hookUrl = await hook.start();
    m = await startMonitor({
      db: s.url,
      port: 0,
      webhook: hookUrl,
      logLevel: "silent",
      configDoc: {
        monitor: { sweep_interval: 3_600_000, notification_poll: 50, max_report_bytes: 64 * 1024, ...monitorCfg },
      },
    });
    tok = {
      agent: (await m.tokens.create("alice", "agent")).token,
      alice: (await m.tokens.create("alice", "operator")).token,
      bob: (await m.tokens.create("bob", "operator")).token,
      bobAgent: (await m.tokens.create("bob", "agent")).token,
      admin: (await m.tokens.create("root", "admin")).token,
    };
  };
  const call = async (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${m!.url}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text, headers: res.headers };
  };
  const stored = async () =>
    m!.store.tx(async (tx) => ({
      hosts: Number((await tx.all<{ n: unknown }>("SELECT count(*) AS n FROM fleet_hosts"))[0]!.n),
      reports: Number((await tx.all<{ n: unknown }>("SELECT count(*) AS n FROM fleet_reports"))[0]!.n),
    }));

  it("wrong or missing token: 401 and nothing stored; malformed: 400; oversized: 413; wrong role: 403", async () => {
    await start();
    const r = report("a", [harmonyKey(hkey(1))]);
    expect((await call("POST", "/api/v1/agent/reports", null, r)).status).toBe(401);
    expect((await call("POST", "/api/v1/agent/reports", "sgm_wrong", r)).status).toBe(401);
    expect((await call("POST", "/api/v1/agent/reports", tok.agent!, r, { authorization: "Basic x" })).status).toBe(401);
    const malformed = await call("POST", "/api/v1/agent/reports", tok.agent!, {
      ...r,
      keys: [{ ...r.keys[0], pubkey: "0x12" }],
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json.code).toBe("ERR_BAD_REQUEST");
    expect((await call("POST", "/api/v1/agent/reports", tok.agent!, "{not json")).status).toBe(400);
    const big = report(
      "a",
      Array.from({ length: 600 }, (_, i) => harmonyKey(hkey(i))),
    );
    const tooLarge = await call("POST", "/api/v1/agent/reports", tok.agent!, big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.code).toBe("ERR_BODY_TOO_LARGE");
    expect(await stored()).toEqual({ hosts: 0, reports: 0 });
    expect((await call("GET", "/api/v1/alerts", tok.agent!)).status).toBe(403);
    expect((await call("POST", "/api/v1/agent/reports", tok.alice!, r)).status).toBe(403);
    expect((await call("GET", "/api/v1/alerts", null)).status).toBe(401);
    expect((await call("POST", "/api/v1/agent/reports", tok.agent!, r)).status).toBe(202);
    expect(await stored()).toEqual({ hosts: 1, reports: 1 });
  });

  it("alerts list answers the documented shape; owners see only their own; actions record who", async () => {
    await start();
    await call("POST", "/api/v1/agent/reports", tok.agent!, report("a", [harmonyKey(hkey(1))]));
    await call("POST", "/api/v1/agent/reports", tok.agent!, report("b", [harmonyKey(hkey(1))]));
    await call("POST", "/api/v1/agent/reports", tok.bobAgent!, report("c", [harmonyKey(hkey(1))]));
    const list = await call("GET", "/api/v1/alerts", tok.alice!);
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(1);
    const a = list.json.data[0];
    for (const k of [
      "id",
      "kind",
      "chain",
      "pubkey",
      "hosts",
      "status",
      "confidence",
      "first_seen",
      "last_seen",
      "evidence",
    ])
      expect(a).toHaveProperty(k);
    expect(a).toMatchObject({
      kind: "double_active",
      chain: "harmony",
      pubkey: hkey(1),
      hosts: ["a", "b"],
      status: "open",
      confidence: 1,
    });
    expect((await call("GET", "/api/v1/alerts", tok.bob!)).json.data).toEqual([]);
    expect((await call("GET", `/api/v1/alerts/${a.id}`, tok.bob!)).status).toBe(404);
    expect((await call("POST", `/api/v1/alerts/${a.id}/acknowledge`, tok.bob!, {})).status).toBe(404);
    expect((await call("GET", "/api/v1/hosts", tok.bob!)).json.data.map((h: any) => h.name)).toEqual(["c"]);
    expect((await call("GET", "/api/v1/alerts", tok.admin!)).json.data).toHaveLength(1);

    const ack = await call("POST", `/api/v1/alerts/${a.id}/acknowledge`, tok.alice!, { by: "carol", note: "on it" });
    expect(ack.json.data).toMatchObject({ status: "acknowledged", acknowledged_by: "alice/carol" });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await call("POST", `/api/v1/alerts/${a.id}/suppress`, tok.alice!, { until })).json.data).toMatchObject({
      status: "suppressed",
      suppressed_until: until,
    });
    expect((await call("POST", `/api/v1/alerts/${a.id}/suppress`, tok.alice!, { until: "tomorrow" })).status).toBe(400);
    expect((await call("POST", `/api/v1/alerts/${a.id}/resolve`, tok.alice!, {})).json.data.status).toBe("resolved");
    expect((await call("POST", `/api/v1/alerts/${a.id}/resolve`, tok.alice!, {})).status).toBe(409);
    const detail = await call("GET", `/api/v1/alerts/${a.id}`, tok.alice!);
    expect(detail.json.data.events.map((e: any) => [e.actor, e.action])).toEqual([
      ["monitor", "opened"],
      ["alice/carol", "acknowledged"],
      ["alice", "suppressed"],
      ["alice", "resolved"],
    ]);
    await hook!.waitFor(1);
    expect((hook!.requests[0]!.json as any).alert.kind).toBe("double_active");
  });

  it("maintenance windows: CRUD, and a host in maintenance raises no agent_silent", async () => {
    await start({ resolve_after: 1 });
    await call("POST", "/api/v1/agent/reports", tok.agent!, report("a", [], { intervalMs: 100 }));
    await call("POST", "/api/v1/agent/reports", tok.agent!, report("b", [], { intervalMs: 100 }));
    const ends = new Date(Date.now() + 3_600_000).toISOString();
    const created = await call("POST", "/api/v1/maintenance", tok.alice!, {
      host: "a",
      ends_at: ends,
      reason: "kernel upgrade",
    });
    expect(created.status).toBe(201);
    expect(created.json.data).toMatchObject({ host: "a", reason: "kernel upgrade", created_by: "alice" });
    const id = created.json.data.id;
    expect((await call("POST", "/api/v1/maintenance", tok.bob!, { host: "a", ends_at: ends })).status).toBe(404);
    expect(
      (await call("POST", "/api/v1/maintenance", tok.alice!, { host: "a", starts_at: ends, ends_at: ends })).status,
    ).toBe(400);
    expect((await call("GET", `/api/v1/maintenance/${id}`, tok.bob!)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 400)); // both hosts have now missed more than 3 intervals of 100 ms
    await m!.sweep();
    const alerts = (await call("GET", "/api/v1/alerts?kind=agent_silent", tok.alice!)).json.data;
    expect(alerts.map((x: any) => x.hosts)).toEqual([["b"]]);
    const hosts = (await call("GET", "/api/v1/hosts", tok.alice!)).json.data;
    expect(hosts.map((h: any) => [h.name, h.silent, h.maintenance?.id ?? null])).toEqual([
      ["a", true, id],
      ["b", true, null],
    ]);
    const put = await call("PUT", `/api/v1/maintenance/${id}`, tok.alice!, { ends_at: ends, reason: "longer" });
    expect(put.json.data.reason).toBe("longer");
    expect((await call("DELETE", `/api/v1/maintenance/${id}`, tok.alice!)).status).toBe(204);
    expect((await call("GET", "/api/v1/maintenance", tok.alice!)).json.data).toEqual([]);
    await m!.sweep();
    expect((await call("GET", "/api/v1/alerts?kind=agent_silent&status=open", tok.alice!)).json.data).toHaveLength(2);
  });

  it("keys: filters, prefix search and keyset pages; history as JSON and CSV", async () => {
    await start();
    const keys = Array.from({ length: 30 }, (_, i) => harmonyKey(hkey(0x1000 + i), i % 3 === 0 ? "Syncing" : "Normal"));
    await call("POST", "/api/v1/agent/reports", tok.agent!, report("a", keys));
    const all: any[] = [];
    let cursor = "";
    for (;;) {
      const page = await call("GET", `/api/v1/keys?limit=7${cursor ? `&cursor=${cursor}` : ""}`, tok.alice!);
      all.push(...page.json.data);
      if (page.json.next_cursor === null) break;
      cursor = page.json.next_cursor;
    }
    expect(all.map((k) => k.pubkey)).toEqual(keys.map((k) => k.pubkey).sort());
    expect((await call("GET", "/api/v1/keys?status=active", tok.alice!)).json.data).toHaveLength(20);
    const prefix = hkey(0x1001).slice(0, 10);
    const byPrefix = (await call("GET", `/api/v1/keys?prefix=${prefix}`, tok.alice!)).json.data;
    expect(byPrefix.map((k: any) => k.pubkey)).toEqual([hkey(0x1001)]);
    expect((await call("GET", "/api/v1/keys?chain=ethereum", tok.alice!)).json.data).toEqual([]);
    expect((await call("GET", "/api/v1/keys?prefix=zz", tok.alice!)).status).toBe(400);
    expect((await call("GET", "/api/v1/keys", tok.bob!)).json.data).toEqual([]);

    await call("POST", "/api/v1/agent/reports", tok.agent!, report("a", [harmonyKey(hkey(0x1001), "Syncing")]));
    const h = await call("GET", `/api/v1/reports/keys/${hkey(0x1001)}/history`, tok.alice!);
    expect(h.json.data.intervals.map((i: any) => [i.host, i.active, i.to === null])).toEqual([
      ["a", true, false],
      ["a", false, true],
    ]);
    const csv = await call("GET", `/api/v1/reports/keys/${hkey(0x1001)}/history?format=csv`, tok.alice!);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = csv.text.trim().split("\n");
    expect(lines[0]).toBe("host,chain,pubkey,present,active,stale,from,to,facts");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('"{""loaded"":true,""mode"":""Syncing""');
    expect((await call("GET", `/api/v1/reports/keys/${hkey(0x1001)}/history`, tok.bob!)).json.data.intervals).toEqual(
      [],
    );
  });

  it("the live feed streams alerts as server-sent events; health and metrics answer", async () => {
    await start();
    const ctl = new AbortController();
    const res = await fetch(`${m!.url}/api/v1/feed`, {
      headers: { authorization: `Bearer ${tok.alice}` },
      signal: ctl.signal,
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    await call("POST", "/api/v1/agent/reports", tok.agent!, report("a", [harmonyKey(hkey(9))]));
    await call("POST", "/api/v1/agent/reports", tok.agent!, report("b", [harmonyKey(hkey(9))]));
    let text = "";
    while (!text.includes("event: alert")) text += new TextDecoder().decode((await reader.read()).value);
    ctl.abort();
    const data = JSON.parse(/data: (.*)\n/.exec(text.slice(text.indexOf("event: alert")))![1]!);
    expect(data).toMatchObject({ kind: "double_active", hosts: ["a", "b"] });
    expect((await call("GET", "/healthcheck", null)).json.status).toBe("UP");
    const metrics = await call("GET", "/metrics", null);
    expect(metrics.text).toContain("slashguard_monitor_reports_total");
    expect(metrics.text).toContain('slashguard_monitor_alerts_opened_total{kind="double_active"} 1');
  });
});
