import { appendFileSync, readFileSync } from "node:fs";
import type { NatsConnection } from "nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FailoverCluster } from "../utils/failover/cluster.js";
import {
  deleteStream,
  HAS_NATS,
  markNatsSkipped,
  NATS_URL,
  natsConnect,
  readStream,
  type StoredMessage,
  uniqueBus,
} from "../utils/nats.js";
import { type Proc, runCli, startMonitorProcess, until, writeFile } from "../utils/processes.js";
import { harmonyKey, hkey, report } from "../utils/reports.js";
import { dropPostgresDb, freshPostgresUrl, freshStoreUrl, HAS_PG, tempDir } from "../utils/stores.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CONFIG = "monitor:\n  sweep_interval: 200ms\n  report_rate: { per_minute: 60000, burst: 1000 }\n";

/** Waits until the stream holds a message on `subject` and returns every message of the stream. */
async function waitForSubject(nc: NatsConnection, stream: string, subject: string): Promise<StoredMessage[]> {
  return until(async () => {
    const got = await readStream(nc, stream, 1, 2000).catch(() => [] as StoredMessage[]);
    return got.some((m) => m.subject === subject) ? got : undefined;
  }, `an event on ${subject}`);
}

describe.skipIf(!HAS_NATS)("alert state changes and failover events on the bus (real processes, real NATS)", () => {
  let nc: NatsConnection;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    nc = await natsConnect();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await nc?.close();
  });

  it("monitor --events: an alert opened and then acknowledged arrives as two alert events", async () => {
    const { stream, prefix } = uniqueBus();
    cleanups.push(() => deleteStream(nc, stream));
    const db = await freshStoreUrl("sqlite");
    cleanups.push(db.cleanup);
    const t = tempDir("sg-ev-alert-");
    cleanups.push(t.cleanup);
    const token = async (role: string): Promise<string> =>
      (await runCli(["monitor", "token", "create", "--owner", "alice", "--role", role, "--db", db.url])).stdout.trim();
    const agent = await token("agent");
    const operator = await token("operator");
    const m: Proc & { url: string } = await startMonitorProcess([
      "--db",
      db.url,
      "--config",
      writeFile(t.dir, "monitor.yaml", CONFIG),
      "--events",
      NATS_URL,
      "--events-stream",
      stream,
      "--events-subject-prefix",
      prefix,
      "--events-instance",
      "monitor-1",
    ]);
    cleanups.push(() => m.stop());
    const post = async (path: string, tok: string, body: unknown) =>
      fetch(`${m.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${tok}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    // one key signing on two hosts: double_active, opened in the report's transaction
    for (const host of ["alice-a", "alice-b"])
      expect((await post("/api/v1/agent/reports", agent, report(host, [harmonyKey(hkey(1))]))).status).toBe(202);
    const opened = (await waitForSubject(nc, stream, `${prefix}.alert.double_active.opened`)).find(
      (x) => x.subject === `${prefix}.alert.double_active.opened`,
    )!;
    const e = opened.json;
    expect(e).toMatchObject({
      version: 1,
      kind: "alert",
      state: "opened",
      alert_kind: "double_active",
      chain: "harmony",
      hosts: ["alice-a", "alice-b"],
      actor: "monitor",
      instance: "monitor-1",
    });
    expect(e.id).toMatch(UUID);
    expect(opened.msgId).toBe(e.id);
    expect((await post(`/api/v1/alerts/${e.alert}/acknowledge`, operator, { note: "looking" })).status).toBe(200);
    const all = await waitForSubject(nc, stream, `${prefix}.alert.double_active.acknowledged`);
    const ack = all.find((x) => x.subject === `${prefix}.alert.double_active.acknowledged`)!.json;
    expect(ack).toMatchObject({ kind: "alert", state: "acknowledged", alert: e.alert, note: "looking" });
    // each state change once
    expect(all.filter((x) => x.subject.startsWith(`${prefix}.alert.`)).map((x) => x.json.state)).toEqual([
      "opened",
      "acknowledged",
    ]);
  });

  it.skipIf(!HAS_PG)("failover --events: the node's activation arrives as a failover event", async () => {
    const { stream, prefix } = uniqueBus();
    cleanups.push(() => deleteStream(nc, stream));
    const db = await freshPostgresUrl();
    cleanups.push(() => dropPostgresDb(db));
    const c = await FailoverCluster.create({
      leaseStore: db,
      hosts: [
        { id: "a", role: "active", primary: true },
        { id: "b", role: "passive" },
      ],
    });
    cleanups.push(() => c.destroy());
    const h = c.host("a");
    appendFileSync(
      h.configFile,
      `events:\n  url: ${NATS_URL}\n  stream: ${stream}\n  subject_prefix: ${prefix}\n  instance: failover-a\n`,
    );
    expect(readFileSync(h.configFile, "utf8")).toContain("events:");
    await c.startDaemon("a");
    const got = await waitForSubject(nc, stream, `${prefix}.failover.a.activated`);
    const e = got.find((x) => x.subject === `${prefix}.failover.a.activated`)!;
    expect(e.json).toMatchObject({
      version: 1,
      kind: "failover",
      event: "activated",
      node: "a",
      instance: "failover-a",
    });
    expect(e.json.id).toMatch(UUID);
    expect(e.msgId).toBe(e.json.id);
    expect(typeof (e.json.detail as { epoch: unknown }).epoch).toBe("string");
  });
});

markNatsSkipped("alert and failover events");
