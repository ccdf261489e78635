import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { alertEvent, eventId, failoverEvent } from "../../../src/events/eventFormat.js";
import { MemoryEventQueue } from "../../../src/events/memoryQueue.js";
import { createEventMetrics } from "../../../src/events/metrics.js";
import { expandRow, packEvents } from "../../../src/events/outboxFormat.js";

const validate = new Ajv({ strict: false, validateFormats: false }).compile(
  JSON.parse(readFileSync(new URL("../../../docs/events.schema.json", import.meta.url), "utf8")) as object,
);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("packed outbox rows", () => {
  it("one row per transaction expands to one event per decision, with the same ids on every read", () => {
    const ev = (key: string) => ({
      chain: "ethereum" as const,
      key,
      scope: null,
      decision: "signed" as const,
      repeat: false,
      code: null,
      request: { type: "block", slot: "7", signing_root: null },
      previous: null,
    });
    const row = {
      ...packEvents({ kind: "sign", instance: "i", prefix: "p", events: [ev("0xa"), ev("0xb")] }, 1000),
      seq: 1,
    };
    expect(row.events).toBe(2);
    const a = expandRow(row);
    const b = expandRow(row);
    expect(a.map((e) => e.subject)).toEqual(["p.sign.ethereum.0xa", "p.sign.ethereum.0xb"]);
    expect(a.map((e) => e.msgId)).toEqual(b.map((e) => e.msgId));
    expect(new Set(a.map((e) => e.msgId)).size).toBe(2);
    for (const e of a) {
      const json = JSON.parse(e.payload) as { id: string; time: string };
      expect(json.id).toBe(e.msgId);
      expect(json.id).toMatch(UUID);
      expect(json.time).toBe("1970-01-01T00:00:01.000Z");
      expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it("a row of migration 0011's form (one ready event) is published as it is", () => {
    const row = { seq: 3, msgId: "m", subject: "p.sign.ethereum.0xa", payload: '{"x":1}', createdAtMs: 1, events: 0 };
    expect(expandRow(row)).toEqual([{ msgId: "m", subject: "p.sign.ethereum.0xa", payload: '{"x":1}' }]);
  });

  it("event ids differ per row and index", () => {
    expect(eventId("r", 0)).not.toBe(eventId("r", 1));
    expect(eventId("r", 0)).not.toBe(eventId("s", 0));
    expect(eventId("r", 7)).toBe(eventId("r", 7));
  });

  it("alert and failover events match the schema and get their subjects", () => {
    const base = {
      id: "5f0c8e0e-3c4f-4d4b-9a36-54c7f0b9d6a1",
      instance: "m1",
      prefix: "sg",
      time: "2026-12-07T00:00:00.000Z",
    };
    const a = alertEvent(
      {
        alert: 4,
        state: "suppression_ended",
        alert_kind: "double_active",
        severity: "critical",
        chain: "ethereum",
        pubkey: "0xab",
        hosts: ["h1", "h2"],
        summary: "s",
        actor: "monitor",
        note: null,
      },
      base,
    );
    expect(a.subject).toBe("sg.alert.double_active.suppression_ended");
    expect(validate(JSON.parse(a.payload)), JSON.stringify(validate.errors)).toBe(true);
    const f = failoverEvent({ event: "self_stop", node: "node.1", detail: { epoch: "3", reason: "fenced" } }, base);
    expect(f.subject).toBe("sg.failover.node_1.self_stop");
    expect(validate(JSON.parse(f.payload)), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe("memory event queue", () => {
  it("holds at most its bound; beyond, events are dropped and counted", async () => {
    const metrics = createEventMetrics(new Registry());
    const q = new MemoryEventQueue(2, metrics);
    const e = (n: number) => ({ msgId: `m${n}`, subject: "s", payload: "{}" });
    expect([q.push(e(1)), q.push(e(2)), q.push(e(3))]).toEqual([true, true, false]);
    expect((await metrics.dropped.get()).values[0]!.value).toBe(1);
    expect(q.peek(5).map((x) => x.msgId)).toEqual(["m1", "m2"]);
    q.drop(1);
    expect(q.peek(5).map((x) => x.msgId)).toEqual(["m2"]);
  });
});
