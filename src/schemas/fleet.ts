import { type Static, Type } from "typebox";
import { IdPattern, LimitPattern, TimeString } from "./common.js";

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const MaintenanceWindow = Type.Object({
  id: Type.Integer(),
  host_id: Type.Integer(),
  host: Type.String(),
  starts_at: Type.String(),
  ends_at: Type.String(),
  reason: Type.String(),
  created_by: Type.String(),
  created_at: Type.String(),
});
export type MaintenanceWindow = Static<typeof MaintenanceWindow>;

export const HostNode = Type.Object({
  source: Type.String(),
  chain: Type.String(),
  reachable: Type.Boolean(),
  error: Nullable(Type.String()),
  since: Type.String(),
  info: Type.Record(Type.String(), Type.Unknown()),
});
export type HostNode = Static<typeof HostNode>;

export const Host = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  owner: Type.String(),
  agent_version: Type.String(),
  interval_ms: Type.Integer(),
  first_seen: Type.String(),
  last_report_at: Type.String(),
  reports_total: Type.Integer(),
  silent: Type.Boolean(),
  keys_present: Type.Integer(),
  keys_active: Type.Integer(),
  nodes: Type.Array(HostNode),
  maintenance: Nullable(MaintenanceWindow),
});
export type Host = Static<typeof Host>;

export const KeyRow = Type.Object({
  chain: Type.String(),
  pubkey: Type.String(),
  key_type: Type.String(),
  host_id: Type.Integer(),
  host: Type.String(),
  status: Type.Union([Type.Literal("active"), Type.Literal("inactive")]),
  stale: Type.Boolean(),
  certainty: Type.Number(),
  source: Type.String(),
  /** What the agent reported about the key on its chain (free-form). */
  facts: Type.Optional(Type.Unknown()),
  first_seen: Type.String(),
  changed_at: Type.String(),
});
export type KeyRow = Static<typeof KeyRow>;

export const KeyPage = Type.Object({ data: Type.Array(KeyRow), next_cursor: Nullable(Type.String()) });
export type KeyPage = Static<typeof KeyPage>;

/** `GET /api/v1/keys` query; `cursor` is the previous page's `next_cursor` (`<pubkey>.<host id>`). */
export const KeyListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: LimitPattern })),
  status: Type.Optional(Type.String({ pattern: "^(active|inactive)?$" })),
  prefix: Type.Optional(Type.String({ pattern: "^(0[xX][0-9a-fA-F]{0,132})?$" })),
  cursor: Type.Optional(Type.String({ pattern: "^(0x[0-9a-f]{64,132}\\.[0-9]{1,10})?$" })),
  chain: Type.Optional(Type.String({ pattern: "^([a-z0-9_]{1,32})?$" })),
  host: Type.Optional(Type.String({ pattern: IdPattern })),
});
export type KeyListQuery = Static<typeof KeyListQuery>;

/** One interval of a key on a host (fleet history). */
export const HistoryInterval = Type.Object({
  host_id: Type.Integer(),
  host: Type.String(),
  chain: Type.String(),
  present: Type.Boolean(),
  active: Type.Boolean(),
  stale: Type.Boolean(),
  from: Type.String(),
  to: Nullable(Type.String()),
  facts: Type.Optional(Type.Unknown()),
  report_id: Type.Optional(Nullable(Type.Integer())),
  /** > 1: older intervals merged into this one (present/active if any of them was). */
  changes: Type.Optional(Type.Integer()),
});
export type HistoryInterval = Static<typeof HistoryInterval>;

/** `GET /api/v1/reports/keys/{pubkey}/history` query. */
export const HistoryQuery = Type.Object({
  from: Type.Optional(TimeString),
  to: Type.Optional(TimeString),
  format: Type.Optional(Type.String({ maxLength: 10 })),
});
export type HistoryQuery = Static<typeof HistoryQuery>;

export const MaintenanceListQuery = Type.Object({ include_past: Type.Optional(Type.String({ maxLength: 10 })) });
export type MaintenanceListQuery = Static<typeof MaintenanceListQuery>;

const WindowFields = {
  starts_at: Type.Optional(Type.Union([TimeString, Type.Integer({ minimum: 0 })])),
  ends_at: Type.Union([TimeString, Type.Integer({ minimum: 0 })]),
  reason: Type.Optional(Type.String({ maxLength: 1000 })),
};

/** `PUT /api/v1/maintenance/{id}` body. */
export const MaintenanceUpdateBody = Type.Object(WindowFields);
export type MaintenanceUpdateBody = Static<typeof MaintenanceUpdateBody>;

/** `POST /api/v1/maintenance` body: a host by name or id, and the window. */
export const MaintenanceCreateBody = Type.Object({
  ...WindowFields,
  host: Type.Union([Type.String(), Type.Number()]),
  by: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  note: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
});
export type MaintenanceCreateBody = Static<typeof MaintenanceCreateBody>;

/** `POST /api/v1/agent/reports` answer. */
export const ReportAccepted = Type.Object({
  accepted: Type.Boolean(),
  host_id: Type.Integer(),
  changed: Type.Boolean(),
});
