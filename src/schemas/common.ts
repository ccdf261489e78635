import { type Static, Type } from "typebox";

// Wire types of the HTTP API, as JSON Schema (TypeBox). The routes validate and type their input with
// them; the dashboard (web/) imports their static types. No Node import here: web/ compiles this folder.

/** Every error answer: a typed code (ERR_…) and a message for people. */
export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;

/** A positive integer id in a path (`/alerts/12`). */
export const IdPattern = "^[1-9][0-9]{0,14}$";
export const IdParams = Type.Object({ id: Type.String({ pattern: IdPattern }) });
export type IdParams = Static<typeof IdParams>;

/** A page size in a query (`limit=100`; capped by the route). */
export const LimitPattern = "^[1-9][0-9]{0,5}$";

/** A public key in a path, any chain (`0x` + 32..66 bytes, either case). */
export const PubkeyParams = Type.Object({ pubkey: Type.String({ pattern: "^0[xX][0-9a-fA-F]{64,132}$" }) });
export type PubkeyParams = Static<typeof PubkeyParams>;

/** A time in a query or body: ISO 8601 or unix milliseconds (checked by the route's parser). */
export const TimeString = Type.String({ maxLength: 40 });

/** `GET /healthcheck`: 200 UP or 503 DOWN, with each check (store, services). */
export const HealthBody = Type.Object({
  status: Type.Union([Type.Literal("UP"), Type.Literal("DOWN")]),
  checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) })),
});
export type HealthBody = Static<typeof HealthBody>;
