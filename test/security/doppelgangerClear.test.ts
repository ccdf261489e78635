import { afterEach, describe, expect, it } from "vitest";
import { type RunningMonitor, startMonitor } from "../../src/cli/monitor/startMonitor.js";
import { freshStoreUrl } from "../utils/stores.js";

/**
 * Issue 15 item 9: any agent token of an owner could clear that owner's critical doppelganger_detected
 * alert with a `clear` naming another source. Only the raising source (its token and name), an admin
 * token, or an operator resolving the alert may end it; a refused clear is a 403 and changes nothing.
 */
const KEY = `0x${"ab".repeat(48)}`;
const raise = (source: string) => ({
  action: "raise",
  kind: "doppelganger_detected",
  pubkey: KEY,
  source,
  confidence: 1,
  summary: "live elsewhere",
  evidence: { epoch: "7" },
});
const clear = (source: string) => ({ action: "clear", kind: "doppelganger_detected", pubkey: KEY, source });

describe("clearing a doppelganger_detected alert over the monitor API", () => {
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
      signerA: (await m.tokens.create("alice", "agent", "signer a")).token,
      signerB: (await m.tokens.create("alice", "agent", "signer b")).token,
      operator: (await m.tokens.create("alice", "operator")).token,
      admin: (await m.tokens.create("root", "admin")).token,
    };
  };
  const call = async (path: string, token: string, body?: unknown) => {
    const res = await fetch(`${m!.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const events = (token: string, evs: unknown[]) => call("/api/v1/agent/events", token, { events: evs });
  const open = async (operator: string) =>
    (await call(`/api/v1/alerts?kind=doppelganger_detected`, operator)).json.data.filter(
      (a: any) => a.status !== "resolved",
    );

  it("another agent source of the owner is refused with 403 and the alert stays open", async () => {
    const t = await start();
    expect((await events(t.signerA, [raise("signer@a:9000")])).status).toBe(202);
    expect(await open(t.operator)).toHaveLength(1);

    // another source of the same owner, with its own token
    const other = await events(t.signerB, [clear("signer@b:9000")]);
    expect([other.status, other.json.code]).toEqual([403, "ERR_FORBIDDEN"]);
    // the same source name sent with another token is another source too
    const spoofed = await events(t.signerB, [clear("signer@a:9000")]);
    expect([spoofed.status, spoofed.json.code]).toEqual([403, "ERR_FORBIDDEN"]);
    // re-raising from the other source first does not make it the raising source
    expect((await events(t.signerB, [raise("signer@b:9000")])).status).toBe(202);
    const after = await events(t.signerB, [clear("signer@b:9000")]);
    expect([after.status, after.json.code]).toEqual([403, "ERR_FORBIDDEN"]);
    // a refused clear in a batch changes nothing, not even the events before it
    const batch = await events(t.signerB, [
      {
        action: "raise",
        kind: "doppelganger_check_failed",
        pubkey: null,
        source: "signer@b:9000",
        confidence: 1,
        summary: "x",
      },
      clear("signer@b:9000"),
    ]);
    expect(batch.status).toBe(403);
    expect((await call(`/api/v1/alerts?kind=doppelganger_check_failed`, t.operator)).json.data).toEqual([]);
    const still = await open(t.operator);
    expect(still).toHaveLength(1);
    expect(still[0].status).toBe("open");

    // the raising source clears it
    expect((await events(t.signerA, [clear("signer@a:9000")])).status).toBe(202);
    expect(await open(t.operator)).toEqual([]);
  });

  it("an admin token clears it, and an operator resolves it", async () => {
    const t = await start();
    expect((await events(t.signerA, [raise("signer@a:9000")])).status).toBe(202);
    const [a] = await open(t.operator);
    expect((await call(`/api/v1/alerts/${a.id}/resolve`, t.operator, {})).status).toBe(200);
    expect(await open(t.operator)).toEqual([]);
    // admin events carry no owner: an admin raises and clears alerts of no owner
    expect((await events(t.admin, [raise("signer@a:9000")])).status).toBe(202);
    expect((await events(t.admin, [clear("signer@z:1")])).status).toBe(202);
  });
});
