import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ProtectionErrorCode as C } from "../../../src/chains/ethereum/protectionErrors.js";
import type { SignEventPayload } from "../../../src/events/eventFormat.js";
import { createEventMetrics, type EventMetrics } from "../../../src/events/metrics.js";
import type { EventBus } from "../../../src/events/natsBus.js";
import { expandRows } from "../../../src/events/outboxFormat.js";
import { OutboxPublisher } from "../../../src/events/outboxPublisher.js";
import { OutboxSink } from "../../../src/events/outboxSink.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { outboxRepository } from "../../../src/store/events/outboxRepository.js";
import { openStore } from "../../../src/store/openStore.js";
import { toHex } from "../../../src/util/hex.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, blk, GVR0, outcomes, pubkey } from "../../utils/eth.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";

/** A bus in memory: stores what it acknowledges, drops repeated msg ids, fails while `down`. */
class FakeBus implements EventBus {
  down = false;
  readonly stored: { subject: string; msgId: string; payload: SignEventPayload }[] = [];
  readonly attempts: string[] = [];
  private readonly seen = new Set<string>();
  get connected(): boolean {
    return !this.down;
  }
  async ready(): Promise<void> {
    if (this.down) throw Object.assign(new Error("bus down"), { code: "CONNECTION_REFUSED" });
  }
  async publish(subject: string, payload: string, msgId: string): Promise<void> {
    this.attempts.push(msgId);
    if (this.down) throw Object.assign(new Error("bus down"), { code: "TIMEOUT" });
    if (this.seen.has(msgId)) return;
    this.seen.add(msgId);
    this.stored.push({ subject, msgId, payload: JSON.parse(payload) as SignEventPayload });
  }
  async close(): Promise<void> {}
}

async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await cond()).toBe(true);
}

describe.each(ENGINES)("message-bus outbox on %s", (engine) => {
  let ts: TestStore;
  let p: EthereumProtection;
  let publisher: OutboxPublisher | null = null;
  let metrics: EventMetrics;
  let sink: OutboxSink;
  const bus = new FakeBus();

  const open = async (maxBacklog = 1000): Promise<void> => {
    ts = await openTestStore(engine);
    metrics = createEventMetrics(new Registry());
    sink = new OutboxSink({ subjectPrefix: "sg", instance: "test-1" }, { logger: nullLogger, metrics });
    p = await EthereumProtection.open(
      { genesisValidatorsRoot: GVR0 },
      { store: ts.store, logger: nullLogger, events: sink },
    );
    publisher = new OutboxPublisher(
      { maxBacklog, idleMs: 20, minBackoffMs: 5, maxBackoffMs: 20, backlogEveryMs: 0 },
      { store: ts.store, bus, logger: nullLogger, metrics, onFull: (f) => (sink.full = f) },
    );
    sink.onRecorded = () => publisher?.poke();
  };
  const backlog = async (): Promise<number> =>
    (await ts.store.tx((tx) => outboxRepository.backlog(tx), { readOnly: true })).count;
  afterEach(async () => {
    await publisher?.stop();
    publisher = null;
    await p?.close();
    await ts?.dispose();
    bus.down = false;
    bus.stored.length = 0;
    bus.attempts.length = 0;
  });

  it("writes one event per decision in the decision's transaction: signed, repeat and refused with the conflicting record", async () => {
    await open();
    const k = pubkey(1);
    expect(await p.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
    expect(await p.checkAndRecord(att(k, 1, 2, 1))).toBe("repeat");
    await expect(p.checkAndRecord(att(k, 1, 2, 2))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
    expect(await p.checkAndRecord(blk(k, 7, 1))).toBe("new");
    const rows = expandRows(await ts.store.tx((tx) => outboxRepository.oldest(tx, 100), { readOnly: true }));
    const events = rows.map((r) => JSON.parse(r.payload) as SignEventPayload);
    expect(rows.every((r) => r.subject === `sg.sign.ethereum.${toHex(k)}`)).toBe(true);
    expect(events.map((e) => [e.decision, e.repeat, e.code])).toEqual([
      ["signed", false, null],
      ["signed", true, null],
      ["refused", false, C.AttestationDoubleVote],
      ["signed", false, null],
    ]);
    expect(events[2]!.request).toMatchObject({ type: "attestation", source_epoch: "1", target_epoch: "2" });
    expect(events[2]!.previous).toMatchObject({ source: "1", target: "2" });
    expect(events[3]!.request).toMatchObject({ type: "block", slot: "7" });
    expect(events.every((e) => e.instance === "test-1" && e.key === toHex(k) && e.version === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.msgId)).size).toBe(4);
  });

  it("bus down: decisions go on, the outbox grows; bus back: every event is published once, in order, and the outbox drains", async () => {
    await open();
    bus.down = true;
    publisher!.start();
    const keys = [pubkey(1), pubkey(2), pubkey(3)];
    for (let e = 1; e <= 20; e++) {
      const res = await outcomes(
        keys.flatMap((k) => [p.checkAndRecord(att(k, e - 1, e, 1)), p.checkAndRecord(att(k, e - 1, e, 2))]),
      );
      expect(res.filter((r) => r === "new")).toHaveLength(3);
    }
    expect(await backlog()).toBe(120);
    const failures = async (): Promise<number> => (await metrics.publishFailures.get()).values[0]?.value ?? 0;
    await until(async () => (await failures()) > 0);
    bus.down = false;
    await until(async () => bus.stored.length === 120 && (await backlog()) === 0);
    for (const k of keys) {
      const mine = bus.stored.filter((s) => s.payload.key === toHex(k)).map((s) => s.payload);
      expect(mine).toHaveLength(40);
      // per key: the order of decisions (each target: the winner first, then the refused twin)
      expect(mine.map((e) => Number((e.request as { target_epoch: string }).target_epoch))).toEqual(
        Array.from({ length: 40 }, (_, i) => Math.floor(i / 2) + 1),
      );
      expect(mine.filter((e) => e.decision === "signed")).toHaveLength(20);
    }
    // the gauge follows at the publisher's next count
    await until(async () => (await metrics.backlog.get()).values[0]!.value === 0);
  });

  it("a publish that fails mid-batch is retried from that event with the same id (no event lost, none twice)", async () => {
    await open();
    const k = pubkey(9);
    for (let e = 1; e <= 10; e++) await p.checkAndRecord(att(k, e - 1, e, 1));
    const realPublish = bus.publish.bind(bus);
    let calls = 0;
    bus.publish = async (s, payload, id) => {
      calls++;
      if (calls === 4 || calls === 5) {
        bus.attempts.push(id);
        throw new Error("ack timeout");
      }
      return realPublish(s, payload, id);
    };
    publisher!.start();
    await until(async () => bus.stored.length === 10 && (await backlog()) === 0);
    expect(bus.stored.map((s) => (s.payload.request as { target_epoch: string }).target_epoch)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(i + 1)),
    );
    // the failed event was retried under its own id
    expect(bus.attempts.filter((a) => a === bus.stored[3]!.msgId).length).toBeGreaterThanOrEqual(2);
  });

  it("outbox at its bound: new events are dropped and counted, signing goes on", async () => {
    await open(5);
    bus.down = true;
    publisher!.start();
    const k = pubkey(4);
    for (let e = 1; e <= 5; e++) await p.checkAndRecord(att(k, e - 1, e, 1));
    await until(() => sink.full);
    for (let e = 6; e <= 8; e++) expect(await p.checkAndRecord(att(k, e - 1, e, 1))).toBe("new");
    expect(await backlog()).toBe(5);
    expect((await metrics.dropped.get()).values[0]!.value).toBe(3);
    bus.down = false;
    await until(async () => (await backlog()) === 0 && !sink.full);
    expect(bus.stored).toHaveLength(5);
  });
});

markPostgresSkipped("message-bus outbox");

describe.skipIf(!ENGINES.includes("postgres"))("two publishers on one PostgreSQL outbox", () => {
  it("each event is published once and one key's events stay in order (the outbox lock admits one round at a time)", async () => {
    const ts = await openTestStore("postgres");
    const other = await openStore(ts.url);
    const metrics = createEventMetrics(new Registry());
    const sink = new OutboxSink({ subjectPrefix: "sg", instance: "a" }, { logger: nullLogger, metrics });
    const p = await EthereumProtection.open(
      { genesisValidatorsRoot: GVR0 },
      { store: ts.store, logger: nullLogger, events: sink },
    );
    const bus = new FakeBus();
    const publishers = [ts.store, other].map(
      (store) =>
        new OutboxPublisher(
          { maxBacklog: 100_000, batch: 7, idleMs: 5 },
          { store, bus, logger: nullLogger, metrics, onFull: () => {} },
        ),
    );
    try {
      for (const pub of publishers) pub.start();
      const k = pubkey(77);
      for (let e = 1; e <= 60; e++) await p.checkAndRecord(att(k, e - 1, e, 1));
      await until(() => bus.stored.length >= 60);
      await until(async () => (await ts.store.tx((tx) => outboxRepository.backlog(tx))).count === 0);
      expect(bus.stored.map((s) => (s.payload.request as { target_epoch: string }).target_epoch)).toEqual(
        Array.from({ length: 60 }, (_, i) => String(i + 1)),
      );
      // no event went out twice (the fake bus keeps every attempt; a duplicate would be a second attempt)
      expect(new Set(bus.attempts).size).toBe(bus.attempts.length);
    } finally {
      for (const pub of publishers) await pub.stop();
      await p.close();
      await other.close();
      await ts.dispose();
    }
  });
});
