import { afterEach, describe, expect, it } from "vitest";
import { type RunningMonitor, startMonitor } from "../../../../../src/cli/monitor/startMonitor.js";
import { freshStoreUrl } from "../../../../utils/stores.js";

/** Route schemas (src/schemas/): a refused input answers 400 ERR_BAD_REQUEST; roles are checked first. */
describe("monitor route schemas", () => {
  let m: RunningMonitor | null = null;
  let cleanup: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await m?.stop();
    await cleanup?.();
    m = null;
  });

  const start = async () => {
    const s = await freshStoreUrl("sqlite");
    cleanup = s.cleanup;
    m = await startMonitor({
      db: s.url,
      port: 0,
      logLevel: "silent",
      configDoc: { monitor: { sweep_interval: 3_600_000, dashboard: false } },
    });
    return {
      agent: (await m.tokens.create("alice", "agent")).token,
      alice: (await m.tokens.create("alice", "operator")).token,
    };
  };
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${m!.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as { code?: string } | null };
  };

  it("params, querystring and body refused by a schema answer 400 ERR_BAD_REQUEST", async () => {
    const t = await start();
    const pk = `0x${"ab".repeat(48)}`;
    const refused: [string, string, unknown?][] = [
      ["GET", "/api/v1/alerts?status=bogus"],
      ["GET", "/api/v1/alerts?limit=0"],
      ["GET", "/api/v1/alerts?before=x"],
      ["GET", "/api/v1/alerts/abc"],
      ["GET", "/api/v1/hosts/0"],
      ["GET", "/api/v1/keys?status=sleeping"],
      ["GET", "/api/v1/keys?cursor=nope"],
      ["GET", "/api/v1/keys?host=-1"],
      ["GET", `/api/v1/keys/0x12/timeline`],
      ["GET", `/api/v1/keys/${pk}/timeline?epochs=0`],
      ["GET", `/api/v1/reports/keys/0xzz/history`],
      ["POST", "/api/v1/alerts/1/acknowledge", { by: "" }],
      ["POST", "/api/v1/alerts/1/acknowledge", { note: 5 }],
      ["POST", "/api/v1/alerts/1/resolve", [1, 2]],
      ["POST", "/api/v1/maintenance", { host: "h" }],
      ["POST", "/api/v1/maintenance", { host: true, ends_at: "2030-01-01T00:00:00Z" }],
      ["PUT", "/api/v1/maintenance/1", { ends_at: "2030-01-01T00:00:00Z", reason: 7 }],
    ];
    for (const [method, path, body] of refused) {
      const r = await call(method, path, t.alice, body);
      expect({ method, path, status: r.status, code: r.json?.code }).toEqual({
        method,
        path,
        status: 400,
        code: "ERR_BAD_REQUEST",
      });
    }
  });

  it("a token of the wrong role gets 403 before its input is validated", async () => {
    const t = await start();
    for (const path of ["/api/v1/alerts?status=bogus", "/api/v1/alerts/abc", "/api/v1/keys?limit=0"]) {
      const r = await call("GET", path, t.agent);
      expect({ path, status: r.status, code: r.json?.code }).toEqual({ path, status: 403, code: "ERR_FORBIDDEN" });
    }
    const r = await call("POST", "/api/v1/maintenance", t.agent, { host: true });
    expect([r.status, r.json?.code]).toEqual([403, "ERR_FORBIDDEN"]);
  });
});
