import { type Static, Type } from "typebox";
import { LimitPattern } from "./common.js";

/** The signer's doppelganger guard state of one key (`GET /api/v1/eth2/doppelganger`). */
export type DoppelgangerStatus = "unverified" | "verified" | "doppelganger_detected";

/** One key's doppelganger status. Epochs and indices are decimal strings. */
export const DoppelgangerEntry = Type.Object({
  pubkey: Type.String(),
  index: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  checked_epochs: Type.Integer(),
  remaining_epochs: Type.Integer(),
  since_epoch: Type.Union([Type.String(), Type.Null()]),
  detail: Type.String(),
});
export type DoppelgangerEntry = Static<typeof DoppelgangerEntry>;

/** `POST /api/v1/eth2/doppelganger/{pubkey}/clear` body: who clears (recorded). */
export const DoppelgangerClearBody = Type.Union([
  Type.Null(),
  Type.Undefined(),
  Type.Object({
    by: Type.Optional(Type.Union([Type.String({ pattern: "^[\\p{L}\\p{N} @._:-]{1,100}$" }), Type.Null()])),
  }),
]);
export type DoppelgangerClearBody = Static<typeof DoppelgangerClearBody>;

export const MinuteStats = Type.Object({
  minute: Type.String(),
  signed: Type.Integer(),
  refused: Type.Integer(),
  refused_by_code: Type.Record(Type.String(), Type.Integer()),
});
export type MinuteStats = Static<typeof MinuteStats>;

/** `GET /api/v1/eth2/stats` answer's data. */
export const SignerStats = Type.Object({
  keys_loaded: Type.Integer(),
  since: Type.String(),
  minutes: Type.Array(MinuteStats),
});
export type SignerStats = Static<typeof SignerStats>;

export const StatsQuery = Type.Object({ minutes: Type.Optional(Type.String({ pattern: LimitPattern })) });
export type StatsQuery = Static<typeof StatsQuery>;

/** `POST /api/v1/eth2/sign/{identifier}`: the key (0x-hex public key); the body is Web3Signer's, parsed by the signer. */
export const SignParams = Type.Object({ identifier: Type.String() });
export type SignParams = Static<typeof SignParams>;

export const SignResponse = Type.Object({ signature: Type.String() });

/** Keymanager API `POST /eth/v1/keystores` body (EIP-2335 keystores as JSON text, EIP-3076 history as text). */
export const KeystoreImportBody = Type.Object({
  keystores: Type.Array(Type.Unknown()),
  passwords: Type.Array(Type.Unknown()),
  slashing_protection: Type.Optional(Type.String()),
});
export type KeystoreImportBody = Static<typeof KeystoreImportBody>;

/** Keymanager API `DELETE /eth/v1/keystores` body. */
export const KeystoreDeleteBody = Type.Object({ pubkeys: Type.Array(Type.String()) });
export type KeystoreDeleteBody = Static<typeof KeystoreDeleteBody>;
