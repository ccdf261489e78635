import { type Static, Type } from "typebox";

/** `GET /health` answer (200 healthy, 503 not). */
export const FailoverHealth = Type.Object({
  status: Type.Union([Type.Literal("UP"), Type.Literal("DOWN")]),
  node_id: Type.String(),
  role: Type.String(),
  checks: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.String() })),
});
export type FailoverHealth = Static<typeof FailoverHealth>;
