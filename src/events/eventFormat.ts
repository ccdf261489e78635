import { randomUUID } from "node:crypto";
import type { DecisionEvent } from "../protection/decisionEvents.js";
import type { OutboxEvent } from "../store/events/outboxRepository.js";

/** Version of the payload schema (docs/events.schema.json); a breaking change raises it. */
export const EVENT_SCHEMA_VERSION = 1;
export const DEFAULT_SUBJECT_PREFIX = "slashguard";
export const DEFAULT_STREAM = "SLASHGUARD";

/** The JSON body of a signing-decision event (docs/events.md, docs/events.schema.json). */
export interface SignEventPayload {
  version: typeof EVENT_SCHEMA_VERSION;
  /** Unique per event; also the JetStream de-duplication id (Nats-Msg-Id). */
  id: string;
  kind: "sign";
  chain: DecisionEvent["chain"];
  key: string;
  scope: string | null;
  decision: DecisionEvent["decision"];
  repeat: boolean;
  code: string | null;
  request: Record<string, unknown>;
  previous: unknown;
  /** The signer that decided (--events-instance, default the host name). */
  instance: string;
  /** When the decision was made (ISO 8601, UTC, milliseconds). */
  time: string;
}

/**
 * Subject of one event: PREFIX.KIND.CHAIN.KEY. A token holds only [A-Za-z0-9_-] (anything else becomes _),
 * so no value can add a level or a wildcard.
 */
export function eventSubject(prefix: string, kind: string, chain: string, key: string): string {
  return [prefix, kind, chain, key].map((t, i) => (i === 0 ? t : token(t))).join(".");
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

export function toOutboxEvent(
  e: DecisionEvent,
  opts: { prefix: string; instance: string; nowMs: number },
): OutboxEvent {
  const payload: SignEventPayload = {
    version: EVENT_SCHEMA_VERSION,
    id: randomUUID(),
    kind: "sign",
    chain: e.chain,
    key: e.key,
    scope: e.scope,
    decision: e.decision,
    repeat: e.repeat,
    code: e.code,
    request: e.request,
    previous: e.previous,
    instance: opts.instance,
    time: new Date(opts.nowMs).toISOString(),
  };
  return {
    msgId: payload.id,
    subject: eventSubject(opts.prefix, "sign", e.chain, e.key),
    payload: JSON.stringify(payload),
    createdAtMs: opts.nowMs,
  };
}
