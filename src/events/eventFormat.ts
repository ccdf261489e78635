import { createHash } from "node:crypto";
import type { DecisionEvent } from "../protection/index.js";
import type { AlertStateChange } from "../schemas/busEvents.js";

/** Version of the payload schema (docs/events.schema.json); a breaking change raises it. */
export const EVENT_SCHEMA_VERSION = 1;
export const DEFAULT_SUBJECT_PREFIX = "slashguard";
export const DEFAULT_STREAM = "SLASHGUARD";

/** Fields every event carries (docs/events.md, docs/events.schema.json). */
interface EventBase {
  version: typeof EVENT_SCHEMA_VERSION;
  /** Unique per event; also the JetStream de-duplication id (Nats-Msg-Id). */
  id: string;
  /** The signer, monitor or failover node that emitted it (--events-instance, default the host name). */
  instance: string;
  /** When it happened (ISO 8601, UTC, milliseconds). */
  time: string;
}

/** The JSON body of a signing-decision event. */
export interface SignEventPayload extends EventBase {
  kind: "sign";
  chain: DecisionEvent["chain"];
  key: string;
  scope: string | null;
  decision: DecisionEvent["decision"];
  repeat: boolean;
  code: string | null;
  request: Record<string, unknown>;
  previous: unknown;
}

/** What an alert state change carries besides the common fields. */
export type AlertEventFacts = AlertStateChange;

export type AlertEventPayload = EventBase & { kind: "alert" } & AlertEventFacts;

export type FailoverEventPayload = EventBase & {
  kind: "failover";
  event: string;
  node: string;
  /** The rest of the failover event (u64 as decimal strings). */
  detail: Record<string, unknown>;
};

/** An event ready for the bus. */
export interface ReadyEvent {
  msgId: string;
  subject: string;
  payload: string;
}

/**
 * Subject of one event: PREFIX.KIND.A.B. A token holds only [A-Za-z0-9_-] (anything else becomes _),
 * so no value can add a level or a wildcard.
 */
export function eventSubject(prefix: string, kind: string, a: string, b: string): string {
  return [prefix, kind, a, b].map((t, i) => (i === 0 ? t : token(t))).join(".");
}

function token(t: string): string {
  const s = t.replace(/[^A-Za-z0-9_-]/g, "_");
  return s.length === 0 ? "_" : s;
}

/** Subject prefixes and stream names as NATS accepts them (checked at start, never at signing time). */
export function validPrefix(p: string): boolean {
  return /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(p);
}

export function validStreamName(n: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(n);
}

/**
 * The id of event `index` of an outbox row: a name-based UUID (version 5 layout, SHA-1) of the row's random
 * id and the index. The same row always yields the same ids, so a re-publish is a duplicate to JetStream.
 */
export function eventId(rowId: string, index: number): string {
  const h = createHash("sha1").update(`${rowId}/${index}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function signEvent(e: DecisionEvent, base: { id: string; instance: string; prefix: string; time: string }) {
  const payload: SignEventPayload = {
    version: EVENT_SCHEMA_VERSION,
    id: base.id,
    kind: "sign",
    chain: e.chain,
    key: e.key,
    scope: e.scope,
    decision: e.decision,
    repeat: e.repeat,
    code: e.code,
    request: e.request,
    previous: e.previous,
    instance: base.instance,
    time: base.time,
  };
  return {
    msgId: base.id,
    subject: eventSubject(base.prefix, "sign", e.chain, e.key),
    payload: JSON.stringify(payload),
  };
}

export function alertEvent(f: AlertEventFacts, base: { id: string; instance: string; prefix: string; time: string }) {
  const payload: AlertEventPayload = {
    version: EVENT_SCHEMA_VERSION,
    id: base.id,
    kind: "alert",
    ...f,
    instance: base.instance,
    time: base.time,
  };
  return {
    msgId: base.id,
    subject: eventSubject(base.prefix, "alert", f.alert_kind, f.state),
    payload: JSON.stringify(payload),
  };
}

export function failoverEvent(
  f: { event: string; node: string; detail: Record<string, unknown> },
  base: { id: string; instance: string; prefix: string; time: string },
): ReadyEvent {
  const payload: FailoverEventPayload = {
    version: EVENT_SCHEMA_VERSION,
    id: base.id,
    kind: "failover",
    event: f.event,
    node: f.node,
    detail: f.detail,
    instance: base.instance,
    time: base.time,
  };
  return {
    msgId: base.id,
    subject: eventSubject(base.prefix, "failover", f.node, f.event),
    payload: JSON.stringify(payload),
  };
}
