import { AppError } from "../../util/errors.js";
import { toHex } from "../../util/hex.js";
import type { SubstrateRecord } from "./types.js";

/** Every typed error of the Substrate signer; refusals (see REFUSALS) carry the incoming and the previous record. */
export enum SubstrateErrorCode {
  // bad input: nothing is decided or recorded
  Malformed = "ERR_SUBSTRATE_MALFORMED",
  KeyType = "ERR_SUBSTRATE_KEY_TYPE",
  CryptoType = "ERR_SUBSTRATE_CRYPTO_TYPE",
  KeyLength = "ERR_SUBSTRATE_KEY_LENGTH",
  TooLarge = "ERR_SUBSTRATE_TOO_LARGE",
  /** The public key is filed under another key type (one public key, one key type: docs/substrate.md). */
  KeyTypeConflict = "ERR_SUBSTRATE_KEY_TYPE_CONFLICT",
  // refusals of the protection rules
  GrandpaEquivocation = "ERR_SUBSTRATE_GRANDPA_EQUIVOCATION",
  BabeEquivocation = "ERR_SUBSTRATE_BABE_EQUIVOCATION",
  ParaDoubleVote = "ERR_SUBSTRATE_PARA_DOUBLE_VOTE",
  BeefyDoubleVote = "ERR_SUBSTRATE_BEEFY_DOUBLE_VOTE",
  NoPayload = "ERR_SUBSTRATE_NO_PAYLOAD",
  PayloadMismatch = "ERR_SUBSTRATE_PAYLOAD_MISMATCH",
  BelowWatermark = "ERR_SUBSTRATE_BELOW_WATERMARK",
  KeyDisabled = "ERR_SUBSTRATE_KEY_DISABLED",
  /** The store holds less for the key than this process already signed: records were lost (failover, restore). */
  StoreBehind = "ERR_SUBSTRATE_STORE_BEHIND",
}

const REFUSAL_CODES: ReadonlySet<string> = new Set([
  SubstrateErrorCode.GrandpaEquivocation,
  SubstrateErrorCode.BabeEquivocation,
  SubstrateErrorCode.ParaDoubleVote,
  SubstrateErrorCode.BeefyDoubleVote,
  SubstrateErrorCode.NoPayload,
  SubstrateErrorCode.PayloadMismatch,
  SubstrateErrorCode.BelowWatermark,
  SubstrateErrorCode.KeyDisabled,
  SubstrateErrorCode.StoreBehind,
]);

export type SubstrateRefusal =
  | {
      code:
        | SubstrateErrorCode.GrandpaEquivocation
        | SubstrateErrorCode.BabeEquivocation
        | SubstrateErrorCode.ParaDoubleVote
        | SubstrateErrorCode.BeefyDoubleVote;
      incoming: SubstrateRecord;
      previous: SubstrateRecord;
    }
  | { code: SubstrateErrorCode.BelowWatermark; incoming: SubstrateRecord; previous: { low: bigint } }
  | { code: SubstrateErrorCode.KeyDisabled; incoming: SubstrateRecord; previous: null }
  | {
      code: SubstrateErrorCode.StoreBehind;
      incoming: SubstrateRecord;
      /** Which position (set/round, slot, session), the highest this process released and what the store holds. */
      previous: { track: string; released: string; stored: string | null };
    }
  | { code: SubstrateErrorCode.NoPayload | SubstrateErrorCode.PayloadMismatch; detail: string };

export type SubstrateErrorType =
  | (SubstrateRefusal & { keyType?: string; publicKey?: string })
  | { code: SubstrateErrorCode.Malformed; what: string; offset?: number }
  | { code: SubstrateErrorCode.KeyType; keyType: string }
  | { code: SubstrateErrorCode.CryptoType; cryptoType: string }
  | { code: SubstrateErrorCode.KeyLength; expected: number; given: number }
  | { code: SubstrateErrorCode.TooLarge; limit: number; given: number }
  | { code: SubstrateErrorCode.KeyTypeConflict; keyType: string; publicKey: string; boundTo: string };

export class SubstrateError extends AppError<SubstrateErrorType> {
  constructor(type: SubstrateErrorType, message?: string) {
    super(type, message ?? `${type.code}: ${describe(type)}`);
  }

  get isRefusal(): boolean {
    return REFUSAL_CODES.has(this.code);
  }
}

function describe(t: SubstrateErrorType): string {
  switch (t.code) {
    case SubstrateErrorCode.GrandpaEquivocation:
      return `a different GRANDPA vote was already signed in this set, round and stage (incoming ${fmt(t.incoming)}, previous ${fmt(t.previous)})`;
    case SubstrateErrorCode.BabeEquivocation:
      return `a different BABE header was already sealed for this slot (incoming ${fmt(t.incoming)}, previous ${fmt(t.previous)})`;
    case SubstrateErrorCode.ParaDoubleVote:
      return `this key already voted the other way on this candidate (incoming ${fmt(t.incoming)}, previous ${fmt(t.previous)})`;
    case SubstrateErrorCode.BeefyDoubleVote:
      return `a different BEEFY commitment was already signed for this block in this validator set (incoming ${fmt(t.incoming)}, previous ${fmt(t.previous)})`;
    case SubstrateErrorCode.BelowWatermark:
      return `the request is below the key's low watermark ${t.previous.low} (history there was pruned or imported)`;
    case SubstrateErrorCode.KeyDisabled:
      return "the key is disabled in the slashing-protection database";
    case SubstrateErrorCode.StoreBehind:
      return "the slashing-protection database holds less for this key than this process already signed (records lost in a database failover or restore): the key stops signing until the history is restored and the signer restarted";
    case SubstrateErrorCode.NoPayload:
    case SubstrateErrorCode.PayloadMismatch:
      return t.detail;
    case SubstrateErrorCode.Malformed:
      return `malformed ${t.what}`;
    case SubstrateErrorCode.KeyType:
      return `key type must be 4 ASCII characters such as gran or babe, got ${JSON.stringify(t.keyType)}`;
    case SubstrateErrorCode.CryptoType:
      return `crypto type must be sr25519, ed25519 or ecdsa, got ${JSON.stringify(t.cryptoType)}`;
    case SubstrateErrorCode.KeyLength:
      return `public key must be ${t.expected} bytes, got ${t.given}`;
    case SubstrateErrorCode.TooLarge:
      return `message of ${t.given} bytes exceeds the limit of ${t.limit}`;
    case SubstrateErrorCode.KeyTypeConflict:
      return `public key ${t.publicKey} is filed under key type ${t.boundTo}, so it may not be used as ${t.keyType} (one public key, one key type)`;
  }
}

function fmt(r: object): string {
  return Object.entries(r)
    .map(([k, v]) => `${k}=${v === null ? "none" : v instanceof Uint8Array ? toHex(v) : String(v)}`)
    .join(" ");
}
