import { afterEach, describe, expect, it } from "vitest";
import { FakeHarmonyNode, HARMONY_NEEDS, HARMONY_VECTORS } from "../utils/fakeNodes.js";
import { LoopbackServer, sendJson } from "../utils/httpServer.js";
import { type Proc, runCli, startAgentProcess, startMonitorProcess, until, writeFile } from "../utils/processes.js";
import { harmonyKey, hkey, report } from "../utils/reports.js";
import { freshStoreUrl, HAS_PG, tempDir } from "../utils/stores.js";
import { skipWithoutVectors } from "../utils/vectors.js";

const INTERVAL = "200ms";
// Short intervals keep the suite fast; a short claim lease lets a restarted monitor take over a killed one's claims.
const CONFIG =
  "monitor:\n  sweep_interval: 200ms\n  notification_poll: 100ms\n  notification_lease: 2s\n  resolve_after: 1s\n" +
  // agents here report every 200 ms, far above the default per-host rate (30 a minute)
  "  report_rate: { per_minute: 60000, burst: 1000 }\n";

describe("monitor and agents as real processes", () => {
  const procs: Proc[] = [];
  const servers: LoopbackServer[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop();
    for (const s of servers.splice(0)) await s.stop();
    for (const c of cleanups.splice(0)) await c();
  });

  const serve = async <S extends LoopbackServer>(s: S): Promise<string> => {
    servers.push(s);
    return s.start();
  };
  const setup = async (engine: "sqlite" | "postgres") => {
    const db = await freshStoreUrl(engine);
    cleanups.push(db.cleanup);
    const t = tempDir();
    cleanups.push(t.cleanup);
    const token = async (owner: string, role = "agent") =>
      writeFile(
        t.dir,
        `${owner}-${role}.token`,
        (await runCli(["monitor", "token", "create", "--owner", owner, "--role", role, "--db", db.url])).stdout.trim(),
      );
    const hook = new LoopbackServer((_r, res) => sendJson(res, 200, {}));
    const hookUrl = await serve(hook);
    const config = writeFile(t.dir, "monitor.yaml", CONFIG);
    return { db: db.url, dir: t.dir, token, hook, hookUrl, config };
  };
  const monitor = async (db: string, config: string, hookUrl: string) => {
    const m = await startMonitorProcess(["--db", db, "--config", config, "--webhook", hookUrl]);
    procs.push(m);
    return m;
  };
  const agent = (monitorUrl: string, tokenFile: string, host: string, nodeUrl: string) => {
    const a = startAgentProcess([
      "--monitor",
      monitorUrl,
      "--token-file",
      tokenFile,
      "--host-name",
      host,
      "--interval",
      INTERVAL,
      "--harmony-rpc",
      nodeUrl,
    ]);
    procs.push(a);
    return a;
  };
  const api = async (url: string, path: string, tokenFile: string | null, init: RequestInit = {}) => {
    const { readFileSync } = await import("node:fs");
    const auth = tokenFile === null ? {} : { authorization: `Bearer ${readFileSync(tokenFile, "utf8").trim()}` };
    const res = await fetch(`${url}${path}`, {
      ...init,
      headers: { ...auth, "content-type": "application/json", ...(init.headers as object) },
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };
  const reportsOf = async (url: string, op: string, host: string) =>
    ((await api(url, "/api/v1/hosts", op)).json.data as any[]).find((h) => h.name === host)?.reports_total ?? 0;

  it("two hosts in Normal mode: exactly one webhook delivery, none for a backup pair, agent_silent unless in maintenance, 401/400 store nothing", async (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const s = await setup("sqlite");
    const alice = await s.token("alice");
    const aliceOp = await s.token("alice", "operator");
    const bob = await s.token("bob");
    const bobOp = await s.token("bob", "operator");
    const m = await monitor(s.db, s.config, s.hookUrl);
    // alice's two nodes load one key of the vector each: the same key, so one event.
    const oneKey = () => {
      const n = new FakeHarmonyNode(HARMONY_VECTORS.normal);
      n.metadata.result.blskey = (n.metadata.result.blskey as string[]).slice(0, 1);
      return n;
    };
    const normal1 = await serve(oneKey());
    const normal2 = await serve(oneKey());
    const normal3 = await serve(new FakeHarmonyNode(HARMONY_VECTORS.normal));
    const backup = await serve(new FakeHarmonyNode(HARMONY_VECTORS.backup));

    // alice: the same keys signing on two hosts. bob: a primary and its backup (same keys, is-backup).
    agent(m.url, alice, "alice-a", normal1);
    const aliceB = agent(m.url, alice, "alice-b", normal2);
    agent(m.url, bob, "bob-primary", normal3);
    const bobBackup = agent(m.url, bob, "bob-backup", backup);
    const wrong = writeFile(s.dir, "wrong.token", "sgm_not-a-token");
    agent(m.url, wrong, "intruder", normal1);

    await s.hook.waitFor(1);
    const alerts = (await api(m.url, "/api/v1/alerts", aliceOp)).json.data;
    expect(alerts.map((a: any) => [a.kind, a.hosts])).toEqual([["double_active", ["alice-a", "alice-b"]]]);
    // Several more report rounds from every host: the same events are not sent again.
    const base = await reportsOf(m.url, aliceOp, "alice-b");
    await until(
      async () => ((await reportsOf(m.url, aliceOp, "alice-b")) >= base + 5 ? true : undefined),
      "five more reports",
    );
    const bobReports = await reportsOf(m.url, bobOp, "bob-backup");
    expect(bobReports).toBeGreaterThan(3);
    expect(s.hook.requests).toHaveLength(1);
    expect(s.hook.requests[0]!.json).toMatchObject({
      owner: "alice",
      action: "trigger",
      alert: { kind: "double_active" },
    });
    expect((await api(m.url, "/api/v1/alerts", bobOp)).json.data).toEqual([]);

    // Wrong token: 401, nothing stored; malformed report: 400, nothing stored.
    const all = (await api(m.url, "/api/v1/hosts", aliceOp)).json.data.concat(
      (await api(m.url, "/api/v1/hosts", bobOp)).json.data,
    );
    expect(all.map((h: any) => h.name).sort()).toEqual(["alice-a", "alice-b", "bob-backup", "bob-primary"]);
    const bad = await api(m.url, "/api/v1/agent/reports", alice, {
      method: "POST",
      body: JSON.stringify({ ...report("x", [harmonyKey(hkey(1))]), version: 9 }),
    });
    expect(bad.status).toBe(400);
    expect(
      (await api(m.url, "/api/v1/agent/reports", null, { method: "POST", body: JSON.stringify(report("x", [])) }))
        .status,
    ).toBe(401);
    expect((await api(m.url, "/api/v1/hosts", aliceOp)).json.data.map((h: any) => h.name)).toEqual([
      "alice-a",
      "alice-b",
    ]);

    // bob-backup goes into maintenance and stops; then alice-b stops: only alice-b is reported silent.
    const ends = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      (
        await api(m.url, "/api/v1/maintenance", bobOp, {
          method: "POST",
          body: JSON.stringify({ host: "bob-backup", ends_at: ends }),
        })
      ).status,
    ).toBe(201);
    await bobBackup.stop();
    await aliceB.stop();
    const silent = await until(async () => {
      const a = (await api(m.url, "/api/v1/alerts?kind=agent_silent", aliceOp)).json.data;
      return a.length > 0 ? a : undefined;
    }, "agent_silent for alice-b");
    expect(silent.map((a: any) => a.hosts)).toEqual([["alice-b"]]);
    expect((await api(m.url, "/api/v1/alerts?kind=agent_silent", bobOp)).json.data).toEqual([]);
    // A silent agent is no proof its keys stopped: the double_active alerts stay open.
    expect((await api(m.url, "/api/v1/alerts?kind=double_active&status=open", aliceOp)).json.data).toHaveLength(1);
  });

  it("SIGKILL right after an accepted report or a queued notification loses neither", async () => {
    const s = await setup("sqlite");
    const alice = await s.token("alice");
    const op = await s.token("alice", "operator");
    s.hook.setHandler((_r, res) => sendJson(res, 503, {}));
    let m = await monitor(s.db, s.config, s.hookUrl);
    for (const h of ["a", "b"]) {
      const r = await api(m.url, "/api/v1/agent/reports", alice, {
        method: "POST",
        body: JSON.stringify(report(h, [harmonyKey(hkey(5))])),
      });
      expect(r.status).toBe(202);
    }
    await m.kill();
    s.hook.setHandler((_r, res) => sendJson(res, 200, {}));
    const before = s.hook.requests.length;
    m = await monitor(s.db, s.config, s.hookUrl);
    expect((await api(m.url, "/api/v1/hosts", op)).json.data.map((h: any) => h.name)).toEqual(["a", "b"]);
    await until(
      async () =>
        s.hook.requests.slice(before).some((r) => (r.json as any)?.alert?.kind === "double_active") ? true : undefined,
      "redelivery",
      120_000,
    );
  });

  it.skipIf(!HAS_PG)(
    "PostgreSQL: three monitor processes on one database, agents on different monitors: one delivery",
    async (ctx) => {
      skipWithoutVectors(ctx, HARMONY_NEEDS);
      const s = await setup("postgres");
      const alice = await s.token("alice");
      const op = await s.token("alice", "operator");
      const ms = await Promise.all([0, 1, 2].map(() => monitor(s.db, s.config, s.hookUrl)));
      const n1 = await serve(new FakeHarmonyNode(HARMONY_VECTORS.normal));
      const n2 = await serve(new FakeHarmonyNode(HARMONY_VECTORS.normal));
      agent(ms[0]!.url, alice, "pa", n1);
      agent(ms[1]!.url, alice, "pb", n2);
      await s.hook.waitFor(2);
      const base = await reportsOf(ms[2]!.url, op, "pb");
      await until(async () => ((await reportsOf(ms[2]!.url, op, "pb")) >= base + 5 ? true : undefined), "more reports");
      expect(s.hook.requests).toHaveLength(2);
      const alerts = (await api(ms[2]!.url, "/api/v1/alerts", op)).json.data;
      expect(alerts.map((a: any) => a.hosts)).toEqual([
        ["pa", "pb"],
        ["pa", "pb"],
      ]);
    },
  );
});
