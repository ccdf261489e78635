import { afterEach, describe, expect, it } from "vitest";
import { AlertErrorCode, AlertService, MONITOR_ACTOR } from "../../../src/alerts/alertService.js";
import { notificationsRepository } from "../../../src/store/alerts/notificationsRepository.js";
import { ownersRepository } from "../../../src/store/fleet/ownersRepository.js";
import { nullLogger } from "../../../src/util/logger.js";
import { detection, ManualClock, RecordingSink, testRouter } from "../../utils/monitorParts.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const KINDS = ["double_active", "agent_silent", "node_unreachable", "key_moved"];
const HOUR = 3_600_000;

describe.each(ENGINES)("alert lifecycle on %s", (engine) => {
  let ts: TestStore;
  let clock: ManualClock;
  let svc: AlertService;
  const setup = async (o: { window?: number; resolveAfter?: number } = {}) => {
    ts = await openTestStore(engine);
    clock = new ManualClock();
    await ts.store.tx((tx) => ownersRepository.upsertOwner(tx, "alice", clock.t));
    svc = new AlertService(
      { dedupWindowMs: o.window ?? 24 * HOUR, resolveAfterMs: o.resolveAfter ?? 30_000, now: clock.now },
      { store: ts.store, router: testRouter(new RecordingSink("rec")), logger: nullLogger },
    );
  };
  afterEach(async () => {
    await ts?.dispose();
  });
  const outbox = () =>
    ts.store.tx(
      async (tx) =>
        await tx.all<{ action: string; payload: string }>(
          "SELECT action, payload FROM alert_notifications ORDER BY id",
        ),
    );
  const actions = async () =>
    (await outbox()).map((r) => `${r.action}${JSON.parse(r.payload).reminder ? "+reminder" : ""}`);

  it("open → acknowledged → resolved when the condition stays clear, with who and when", async () => {
    await setup();
    const d = detection("double_active", [1, 2]);
    await svc.reconcile([d], KINDS);
    let [a] = await svc.list({ ownerId: 1, limit: 10 });
    expect(a).toMatchObject({ status: "open", kind: "double_active", hosts: ["h1", "h2"] });
    await svc.acknowledge({ ownerId: 1, name: "alice" }, a!.id, "looking");
    clock.advance(10_000);
    await svc.reconcile([], KINDS); // clear for the first time: not yet resolved
    expect((await svc.list({ ownerId: 1, limit: 10 }))[0]!.status).toBe("acknowledged");
    clock.advance(30_000);
    await svc.reconcile([], KINDS);
    a = (await svc.list({ ownerId: 1, limit: 10 }))[0];
    expect(a).toMatchObject({ status: "resolved", resolvedBy: MONITOR_ACTOR, acknowledgedBy: "alice" });
    const { events } = await svc.get({ ownerId: 1 }, a!.id);
    expect(events.map((e) => [e.actor, e.action])).toEqual([
      [MONITOR_ACTOR, "opened"],
      ["alice", "acknowledged"],
      [MONITOR_ACTOR, "resolved"],
    ]);
    expect(await actions()).toEqual(["trigger", "acknowledge", "resolve"]);
  });

  it("a condition that flaps back before resolveAfter keeps its alert and sends nothing new", async () => {
    await setup();
    const d = detection("double_active", [1, 2]);
    await svc.reconcile([d], KINDS);
    clock.advance(10_000);
    await svc.reconcile([], KINDS);
    clock.advance(10_000);
    await svc.reconcile([d], KINDS);
    clock.advance(40_000);
    await svc.reconcile([d], KINDS);
    expect(await svc.list({ ownerId: 1, limit: 10 })).toHaveLength(1);
    expect(await actions()).toEqual(["trigger"]);
  });

  it("the same event is not re-sent within the dedup window; once per window while it goes on", async () => {
    await setup();
    const d = detection("agent_silent", [1], { chain: null, pubkey: null });
    await svc.reconcile([d], KINDS);
    for (let i = 0; i < 5; i++) {
      clock.advance(HOUR);
      await svc.reconcile([d], KINDS);
    }
    expect(await actions()).toEqual(["trigger"]);
    clock.advance(20 * HOUR);
    await svc.reconcile([d], KINDS);
    expect(await actions()).toEqual(["trigger", "trigger+reminder"]);
  });

  it("within the window: a silent host that comes back and goes silent again is not re-sent; double_active is", async () => {
    await setup();
    const silent = detection("agent_silent", [1], { chain: null, pubkey: null });
    const dbl = detection("double_active", [1, 2]);
    await svc.reconcile([silent, dbl], KINDS);
    clock.advance(60_000);
    await svc.reconcile([], KINDS);
    clock.advance(60_000);
    await svc.reconcile([], KINDS);
    expect((await svc.list({ ownerId: 1, limit: 10 })).map((a) => a.status)).toEqual(["resolved", "resolved"]);
    clock.advance(HOUR);
    await svc.reconcile([silent, dbl], KINDS);
    const sent = (await outbox()).map((r) => [r.action, JSON.parse(r.payload).alert.kind]);
    expect(
      sent
        .filter(([a]) => a === "trigger")
        .map(([, k]) => k)
        .sort(),
    ).toEqual(["agent_silent", "double_active", "double_active"]);
    expect(await svc.list({ ownerId: 1, status: "open", limit: 10 })).toHaveLength(2);
  });

  it("a resolve by hand while the condition goes on reopens without a second notification", async () => {
    await setup();
    const d = detection("double_active", [1, 2]);
    await svc.reconcile([d], KINDS);
    const [a] = await svc.list({ ownerId: 1, limit: 10 });
    await svc.resolve({ ownerId: 1, name: "alice" }, a!.id, "fixed");
    await svc.reconcile([d], KINDS);
    expect((await svc.list({ ownerId: 1, limit: 10 })).map((x) => x.status)).toEqual(["open", "resolved"]);
    expect(await actions()).toEqual(["trigger", "resolve"]);
  });

  it("suppress until a time: no reminder until then, then open again", async () => {
    await setup({ window: HOUR });
    const d = detection("node_unreachable", [1], { pubkey: null });
    await svc.reconcile([d], KINDS);
    const [a] = await svc.list({ ownerId: 1, limit: 10 });
    await svc.suppress({ ownerId: 1, name: "alice" }, a!.id, clock.t + 3 * HOUR, "planned");
    clock.advance(2 * HOUR);
    await svc.reconcile([d], KINDS);
    expect((await svc.get({ ownerId: 1 }, a!.id)).alert.status).toBe("suppressed");
    clock.advance(2 * HOUR);
    await svc.reconcile([d], KINDS);
    expect((await svc.get({ ownerId: 1 }, a!.id)).alert.status).toBe("open");
    expect(await actions()).toEqual(["trigger", "trigger+reminder"]);
    await expect(svc.suppress({ ownerId: 1, name: "alice" }, a!.id, clock.t - 1, null)).rejects.toMatchObject({
      code: "ERR_BAD_REQUEST",
    });
  });

  it("owners only act on their own alerts; resolved alerts refuse actions", async () => {
    await setup();
    await svc.reconcile([detection("double_active", [1, 2])], KINDS);
    const [a] = await svc.list({ ownerId: 1, limit: 10 });
    await expect(svc.acknowledge({ ownerId: 2, name: "mallory" }, a!.id, null)).rejects.toMatchObject({
      code: AlertErrorCode.NotFound,
    });
    expect(await svc.list({ ownerId: 2, limit: 10 })).toEqual([]);
    await svc.resolve({ ownerId: null, name: "admin" }, a!.id, null);
    await expect(svc.acknowledge({ ownerId: 1, name: "alice" }, a!.id, null)).rejects.toMatchObject({
      code: AlertErrorCode.Resolved,
    });
  });

  it("50 parallel raises of one event: one alert, one notification", async () => {
    await setup();
    const d = detection("double_active", [1, 2]);
    await Promise.all(Array.from({ length: 50 }, () => svc.raise([d])));
    expect(await svc.list({ ownerId: 1, limit: 100 })).toHaveLength(1);
    expect(await actions()).toEqual(["trigger"]);
    expect(await ts.store.tx((tx) => notificationsRepository.countByState(tx))).toEqual({ pending: 1 });
  });
});
