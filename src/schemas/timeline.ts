import { type Static, Type } from "typebox";
import { Alert } from "./alerts.js";
import { LimitPattern, TimeString } from "./common.js";
import { HistoryInterval } from "./fleet.js";

export const EpochSignatures = Type.Object({
  epoch: Type.String(),
  attestations: Type.Integer(),
  blocks: Type.Integer(),
});
export type EpochSignatures = Static<typeof EpochSignatures>;

/** Signatures the signer recorded per epoch for one key (epochs are decimal strings: u64). */
export const SignaturesView = Type.Object({
  available: Type.Boolean(),
  /** Why there is nothing to show (available false). */
  reason: Type.Union([Type.String(), Type.Null()]),
  slots_per_epoch: Type.Integer(),
  from_epoch: Type.Union([Type.String(), Type.Null()]),
  to_epoch: Type.Union([Type.String(), Type.Null()]),
  epochs: Type.Array(EpochSignatures),
});
export type SignaturesView = Static<typeof SignaturesView>;

/** `GET /api/v1/keys/{pubkey}/timeline` answer's data. */
export const Timeline = Type.Object({
  pubkey: Type.String(),
  from: Type.String(),
  to: Type.String(),
  intervals: Type.Array(HistoryInterval),
  alerts: Type.Array(Alert),
  signatures: SignaturesView,
});
export type Timeline = Static<typeof Timeline>;

export const TimelineQuery = Type.Object({
  from: Type.Optional(TimeString),
  to: Type.Optional(TimeString),
  epochs: Type.Optional(Type.String({ pattern: LimitPattern })),
  slots_per_epoch: Type.Optional(Type.String({ pattern: LimitPattern })),
  /** u64, parsed with util/u64 by the route. */
  to_epoch: Type.Optional(Type.String({ maxLength: 20 })),
});
export type TimelineQuery = Static<typeof TimelineQuery>;
