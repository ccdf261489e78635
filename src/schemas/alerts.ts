import { type Static, Type } from "typebox";
import { IdPattern, LimitPattern, TimeString } from "./common.js";

export const AlertStatus = Type.Union([
  Type.Literal("open"),
  Type.Literal("acknowledged"),
  Type.Literal("suppressed"),
  Type.Literal("resolved"),
]);
export type AlertStatus = Static<typeof AlertStatus>;

export type Severity = "critical" | "warning" | "info";

/** An alert as the API answers it and as sinks receive it (snake_case). */
export const Alert = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  severity: Type.String(),
  chain: Type.Union([Type.String(), Type.Null()]),
  pubkey: Type.Union([Type.String(), Type.Null()]),
  hosts: Type.Array(Type.String()),
  status: AlertStatus,
  confidence: Type.Number(),
  summary: Type.String(),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  first_seen: Type.String(),
  last_seen: Type.String(),
  acknowledged_by: Type.Union([Type.String(), Type.Null()]),
  acknowledged_at: Type.Union([Type.String(), Type.Null()]),
  suppressed_until: Type.Union([Type.String(), Type.Null()]),
  resolved_by: Type.Union([Type.String(), Type.Null()]),
  resolved_at: Type.Union([Type.String(), Type.Null()]),
  dedup_key: Type.String(),
});
export type Alert = Static<typeof Alert>;

/** `GET /api/v1/alerts` query. */
export const AlertListQuery = Type.Object({
  status: Type.Optional(AlertStatus),
  kind: Type.Optional(Type.String({ pattern: "^([a-z_]{1,40})?$" })),
  chain: Type.Optional(Type.String({ pattern: "^([a-z0-9_]{1,32})?$" })),
  pubkey: Type.Optional(Type.String({ pattern: "^(0x[0-9a-f]{64,132})?$" })),
  since: Type.Optional(TimeString),
  before: Type.Optional(Type.String({ pattern: IdPattern })),
  limit: Type.Optional(Type.String({ pattern: LimitPattern })),
});
export type AlertListQuery = Static<typeof AlertListQuery>;

/** Body of acknowledge / suppress / resolve: who (defaults to the token's owner), a note, suppress's end. */
export const AlertActionBody = Type.Union([
  Type.Null(),
  Type.Object({
    by: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    note: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    until: Type.Optional(Type.Union([TimeString, Type.Integer({ minimum: 0 })])),
  }),
]);
export type AlertActionBody = Static<typeof AlertActionBody>;

export const AlertEvent = Type.Object({
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  note: Type.Union([Type.String(), Type.Null()]),
});

/** `GET /api/v1/alerts/{id}`: the alert with its history and notifications. */
export const AlertDetail = Type.Intersect([
  Alert,
  Type.Object({ events: Type.Array(AlertEvent), notifications: Type.Array(Type.Unknown()) }),
]);
export type AlertDetail = Static<typeof AlertDetail>;

/** `POST /api/v1/agent/events` answer. */
export const EventsAccepted = Type.Object({ accepted: Type.Integer() });
