import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DOPPELGANGER_GUARDED_TYPES } from "../../../../../src/chains/ethereum/doppelgangerRules.js";
import { startMonitor } from "../../../../../src/cli/monitor/startMonitor.js";
import { inProcessSink, type SignerAlertSink } from "../../../../../src/cli/signer/alertRelay.js";
import type { SignerEvent } from "../../../../../src/detect/signerEvents.js";
import { ethHistoryRepository } from "../../../../../src/store/ethereum/ethHistoryRepository.js";
import { ownersRepository } from "../../../../../src/store/fleet/ownersRepository.js";
import { attestationRequest, everyType, TEST_GVR_HEX } from "../../../../utils/ethRequests.js";
import { FakeBeaconNode } from "../../../../utils/fakeBeacon.js";
import { FakeClock } from "../../../../utils/fakeClock.js";
import { type SignerHarness, startSignerHarness } from "../../../../utils/signerHarness.js";
import { ENGINES, markPostgresSkipped, tempDir } from "../../../../utils/stores.js";

class RecordingAlerts implements SignerAlertSink {
  readonly events: SignerEvent[] = [];
  async send(events: SignerEvent[]): Promise<void> {
    this.events.push(...events);
  }
}

markPostgresSkipped("doppelganger API");

describe.each(ENGINES)("doppelganger guard in the Ethereum signer (%s)", (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** The real signer section with the guard on, a fake beacon node and a fake clock (epoch 5 at start). */
  async function start(o: { keys?: number; flags?: Record<string, unknown>; alerts?: SignerAlertSink } = {}) {
    const genesisTimeSec = 1_700_000_000;
    const clock = new FakeClock(genesisTimeSec * 1000 + 5 * 8 * 12_000 + 1000);
    const bn = new FakeBeaconNode({ genesisTimeSec, genesisValidatorsRoot: TEST_GVR_HEX, now: clock.nowMs });
    bn.autoIndex = true; // the signer's fresh keys all have deposits
    await bn.start();
    const alerts = o.alerts ?? new RecordingAlerts();
    const h = await startSignerHarness(engine, {
      keys: o.keys ?? 2,
      flags: { beaconNode: [bn.url], ...o.flags },
      hooks: { clock, alerts },
    });
    cleanups.push(async () => {
      await h.close();
      await bn.stop();
    });
    /** Moves the clock and lets the guard's loop run its round(s). */
    const at = async (ms: number): Promise<void> => {
      await clock.untilSleeping();
      clock.set(ms);
      await clock.untilSleeping();
    };
    await at(clock.t + 3000); // the first round: the chain's genesis is known, keys registered in epoch 5
    return { h, bn, clock, alerts, at };
  }

  const sign = (h: SignerHarness, key: string, target: number) =>
    h.app.inject({
      method: "POST",
      url: `/api/v1/eth2/sign/${key}`,
      payload: attestationRequest(target - 1, target).body,
      headers: { accept: "application/json" },
    });
  const status = async (h: SignerHarness) =>
    (await h.app.inject({ url: "/api/v1/eth2/doppelganger" })).json() as { data: Record<string, unknown>[] };

  it("a new key: 412 ERR_DOPPELGANGER_UNVERIFIED (nothing recorded) until the guard verified it, then it signs", async () => {
    const { h, bn, at } = await start();
    const refused = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(h, h.keys[0]!, 10 + i)));
    expect(refused.map((r) => [r.statusCode, r.json().code])).toEqual(
      Array.from({ length: 20 }, () => [412, "ERR_DOPPELGANGER_UNVERIFIED"]),
    );
    const recorded = await h.store.tx((tx) => ethHistoryRepository.summaries(tx, 0, 10));
    expect(recorded.map((r) => r.attestations)).toEqual([0, 0]); // refused before slashing protection
    expect((await status(h)).data).toEqual(
      [...h.keys].sort().map((pubkey) => ({
        pubkey,
        index: String(bn.indexOf(pubkey)),
        status: "unverified",
        checked_epochs: 0,
        remaining_epochs: 1,
        since_epoch: "5",
        detail: expect.stringMatching(/checking liveness from epoch 6/),
      })),
    );
    // what is neither slashable nor makes the key live signs during the check (duties need selection proofs)
    for (const r of everyType(10)) {
      const res = await h.app.inject({
        method: "POST",
        url: `/api/v1/eth2/sign/${h.keys[1]}`,
        payload: r.body,
        headers: { accept: "application/json" },
      });
      const type = String(r.body.type);
      expect([type, res.statusCode]).toEqual([type, DOPPELGANGER_GUARDED_TYPES.has(type) ? 412 : 200]);
    }
    await at(bn.epochCheckTime(6));
    expect((await sign(h, h.keys[0]!, 10)).statusCode).toBe(412);
    await at(bn.epochCheckTime(7));
    const r = await sign(h, h.keys[0]!, 10);
    expect(r.statusCode).toBe(200);
    expect((await status(h)).data.map((k) => [k.status, k.checked_epochs, k.remaining_epochs])).toEqual([
      ["verified", 1, 0],
      ["verified", 1, 0],
    ]);
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/slashguard_doppelganger_keys\{status="verified"\} 2/);
    expect(metrics).toMatch(/slashguard_doppelganger_keys\{status="unverified"\} 0/);
  });

  it("a twin: 412 ERR_DOPPELGANGER_DETECTED and an alert; cleared only with the keymanager token", async () => {
    const { h, bn, at, alerts } = await start();
    const twin = h.keys[1]!;
    bn.setLive(6, bn.indexOf(twin)!);
    await at(bn.timeOf(6 * 8 + 2, 0.75));
    expect((await sign(h, twin, 10)).json().code).toBe("ERR_DOPPELGANGER_DETECTED");
    const raised = (alerts as RecordingAlerts).events;
    expect(raised.map((e) => [e.action, e.kind, e.pubkey])).toEqual([["raise", "doppelganger_detected", twin]]);
    expect(raised[0]!.evidence).toMatchObject({ index: bn.indexOf(twin), epoch: "6" });
    const url = `/api/v1/eth2/doppelganger/${twin}/clear`;
    expect((await h.app.inject({ method: "POST", url, payload: { by: "alice" } })).statusCode).toBe(401);
    const bad = await h.app.inject({
      method: "POST",
      url,
      payload: { by: "<script>" },
      headers: { authorization: `Bearer ${h.token}` },
    });
    expect(bad.json().code).toBe("ERR_BAD_REQUEST");
    const ok = await h.app.inject({
      method: "POST",
      url,
      payload: { by: "alice" },
      headers: { authorization: `Bearer ${h.token}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().data).toMatchObject({ pubkey: twin, status: "unverified", since_epoch: "6" });
    expect(raised.at(-1)).toMatchObject({ action: "clear", kind: "doppelganger_detected", pubkey: twin });
    const again = await h.app.inject({
      method: "POST",
      url,
      payload: {},
      headers: { authorization: `Bearer ${h.token}` },
    });
    expect([again.statusCode, again.json().code]).toEqual([412, "ERR_DOPPELGANGER_NOT_DETECTED"]);
  });

  it("beacon node down from the start: keys refused, and an alert says why", async () => {
    const { h, bn, at, alerts } = await start({ keys: 1 });
    bn.down = true;
    await at(bn.epochCheckTime(7));
    expect((await sign(h, h.keys[0]!, 10)).json().code).toBe("ERR_DOPPELGANGER_UNVERIFIED");
    const ev = (alerts as RecordingAlerts).events;
    expect(ev.map((e) => [e.action, e.kind])).toEqual([["raise", "doppelganger_check_failed"]]);
    expect(ev[0]!.summary).toMatch(/HTTP 503.*1 key\(s\) stay unverified/);
    expect((await h.service.health()).checks.doppelganger).toEqual({
      ok: true,
      detail: expect.stringMatching(/0 verified, 1 unverified/),
    });
  });

  it("a detection reaches the fleet monitor: in one process, or over HTTP with an agent token", async () => {
    const t = tempDir("sg-dg-mon-");
    const mon = await startMonitor({ port: 0, db: `sqlite:${join(t.dir, "monitor.db")}`, logLevel: "silent" });
    cleanups.push(async () => {
      await mon.stop();
      t.cleanup();
    });
    const agent = await mon.tokens.create("acme", "agent", "signer");
    const operator = await mon.tokens.create("acme", "operator", "ops");
    const owner = await mon.store.tx((tx) => ownersRepository.findOwner(tx, "acme"));
    const tokenFile = join(t.dir, "agent-token");
    writeFileSync(tokenFile, `${agent.token}\n`);
    const alertsOf = async () =>
      (
        (await (
          await fetch(`${mon.url}/api/v1/alerts`, { headers: { authorization: `Bearer ${operator.token}` } })
        ).json()) as {
          data: { kind: string; pubkey: string | null; status: string; severity: string }[];
        }
      ).data;

    // over HTTP: --monitor-url and an agent token
    const remote = await start({ flags: { monitorUrl: mon.url, monitorTokenFile: tokenFile } });
    remote.bn.setLive(6, remote.bn.indexOf(remote.h.keys[0]!)!);
    await remote.at(remote.bn.timeOf(6 * 8 + 1, 0.75));
    for (let i = 0; i < 200 && (await alertsOf()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await alertsOf()).map((a) => [a.kind, a.pubkey, a.severity, a.status])).toEqual([
      ["doppelganger_detected", remote.h.keys[0], "critical", "open"],
    ]);

    // in one process (`slashguard up`): straight into the monitor's alerts
    const local = await start({ alerts: inProcessSink(mon.alerts, owner) });
    local.bn.setLive(6, local.bn.indexOf(local.h.keys[1]!)!);
    await local.at(local.bn.timeOf(6 * 8 + 1, 0.75));
    for (let i = 0; i < 200 && (await alertsOf()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await alertsOf()).map((a) => a.pubkey).sort()).toEqual([remote.h.keys[0], local.h.keys[1]].sort());
  });

  it("--no-doppelganger: keys sign at once and the status says the guard is off; no beacon node is a start error", async () => {
    const off = await startSignerHarness(engine, { keys: 1 });
    cleanups.push(() => off.close());
    expect((await sign(off, off.keys[0]!, 10)).statusCode).toBe(200);
    expect((await status(off)).data).toEqual([
      expect.objectContaining({ pubkey: off.keys[0], status: "verified", detail: expect.stringMatching(/guard off/) }),
    ]);
    await expect(startSignerHarness(engine, { keys: 1, flags: {} })).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
      message: expect.stringMatching(/--beacon-node.*--no-doppelganger/),
    });
  });
});
