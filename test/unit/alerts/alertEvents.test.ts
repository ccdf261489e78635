import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { AlertService, MONITOR_ACTOR } from "../../../src/alerts/alertService.js";
import type { AlertEventPayload } from "../../../src/events/eventFormat.js";
import { createEventMetrics } from "../../../src/events/metrics.js";
import { expandRows } from "../../../src/events/outboxFormat.js";
import { OutboxSink } from "../../../src/events/outboxSink.js";
import { outboxRepository } from "../../../src/store/events/outboxRepository.js";
import { ownersRepository } from "../../../src/store/fleet/ownersRepository.js";
import { nullLogger } from "../../../src/util/logger.js";
import { detection, ManualClock, RecordingSink, testRouter } from "../../utils/monitorParts.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const KINDS = ["double_active"];

describe.each(ENGINES)("alert state changes to the message-bus outbox on %s", (engine) => {
  let ts: TestStore;
  afterEach(async () => {
    await ts?.dispose();
  });

  it("every state change is one event in the changing transaction: opened, acknowledged, resolved", async () => {
    ts = await openTestStore(engine);
    const clock = new ManualClock();
    await ts.store.tx((tx) => ownersRepository.upsertOwner(tx, "alice", clock.t));
    const sink = new OutboxSink(
      { subjectPrefix: "sg", instance: "mon-1" },
      { logger: nullLogger, metrics: createEventMetrics(new Registry()), now: clock.now },
    );
    const svc = new AlertService(
      { dedupWindowMs: 3_600_000, resolveAfterMs: 30_000, now: clock.now },
      { store: ts.store, router: testRouter(new RecordingSink("rec")), logger: nullLogger, events: sink },
    );
    await svc.reconcile([detection("double_active", [1, 2])], KINDS);
    const [a] = await svc.list({ ownerId: 1, limit: 10 });
    await svc.acknowledge({ ownerId: 1, name: "alice" }, a!.id, "looking");
    clock.advance(10_000);
    await svc.reconcile([], KINDS);
    clock.advance(30_000);
    await svc.reconcile([], KINDS);
    const got = expandRows(await ts.store.tx((tx) => outboxRepository.oldest(tx, 100), { readOnly: true }));
    expect(got.map((e) => e.subject)).toEqual([
      "sg.alert.double_active.opened",
      "sg.alert.double_active.acknowledged",
      "sg.alert.double_active.resolved",
    ]);
    const events = got.map((e) => JSON.parse(e.payload) as AlertEventPayload);
    expect(events.map((e) => [e.state, e.actor, e.note])).toEqual([
      ["opened", MONITOR_ACTOR, null],
      ["acknowledged", "alice", "looking"],
      ["resolved", MONITOR_ACTOR, "condition cleared"],
    ]);
    expect(events.every((e) => e.alert === a!.id && e.instance === "mon-1" && e.hosts.length === 2)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it("a transaction that fails leaves no alert event", async () => {
    ts = await openTestStore(engine);
    const clock = new ManualClock();
    await ts.store.tx((tx) => ownersRepository.upsertOwner(tx, "alice", clock.t));
    const sink = new OutboxSink(
      { subjectPrefix: "sg", instance: "mon-1" },
      { logger: nullLogger, metrics: createEventMetrics(new Registry()) },
    );
    const svc = new AlertService(
      { dedupWindowMs: 3_600_000, resolveAfterMs: 30_000, now: clock.now },
      { store: ts.store, router: testRouter(new RecordingSink("rec")), logger: nullLogger, events: sink },
    );
    await expect(
      ts.store.tx(async (tx) => {
        await svc.raiseInTx(tx, [detection("double_active", [1, 2])], clock.t);
        throw new Error("boom");
      }),
    ).rejects.toThrow();
    expect(await ts.store.tx((tx) => outboxRepository.oldest(tx, 100), { readOnly: true })).toEqual([]);
  });
});
