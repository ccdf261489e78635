import { randomUUID } from "node:crypto";
import type { DecisionEvent } from "../protection/index.js";
import type { OutboxEvent, OutboxRow } from "../store/index.js";
import { type AlertEventFacts, alertEvent, eventId, type ReadyEvent, signEvent } from "./eventFormat.js";

/**
 * One outbox row holds the events of one transaction as bare facts (what the transaction knows anyway):
 * building subjects, ids and payloads is the publisher's work, off the signing path.
 */
type Packed =
  | { kind: "sign"; instance: string; prefix: string; events: DecisionEvent[] }
  | { kind: "alert"; instance: string; prefix: string; events: AlertEventFacts[] };

/** The outbox row of a transaction's events: one random id, one JSON text. */
export function packEvents(p: Packed, nowMs: number): OutboxEvent {
  return {
    msgId: randomUUID(),
    subject: p.kind,
    payload: JSON.stringify(p),
    createdAtMs: nowMs,
    events: p.events.length,
  };
}

/** The events of a row as they go on the bus (same ids every time the row is read). */
export function expandRow(row: OutboxRow): ReadyEvent[] {
  // a row of migration 0011's form: one ready event
  if (row.events === 0) return [{ msgId: row.msgId, subject: row.subject, payload: row.payload }];
  const p = JSON.parse(row.payload) as Packed;
  const time = new Date(row.createdAtMs).toISOString();
  const base = (i: number) => ({ id: eventId(row.msgId, i), instance: p.instance, prefix: p.prefix, time });
  if (p.kind === "sign") return p.events.map((e, i) => signEvent(e, base(i)));
  return p.events.map((e, i) => alertEvent(e, base(i)));
}

/** Every event of these rows, in order (tests and tools). */
export function expandRows(rows: readonly OutboxRow[]): ReadyEvent[] {
  return rows.flatMap(expandRow);
}
