import { AppError } from "../../util/errors.js";
import { toHex } from "../../util/hex.js";
import type { AttestationRecord, BlockRecord } from "./protectionTypes.js";

/** Refusal codes of Ethereum slashing protection (EIP-3076 conditions and the store's own guards). */
export enum ProtectionErrorCode {
  BlockDoubleProposal = "ERR_BLOCK_DOUBLE_PROPOSAL",
  BlockBelowLowWatermark = "ERR_BLOCK_BELOW_LOW_WATERMARK",
  AttestationSourceAfterTarget = "ERR_ATTESTATION_SOURCE_AFTER_TARGET",
  AttestationDoubleVote = "ERR_ATTESTATION_DOUBLE_VOTE",
  AttestationSurrounding = "ERR_ATTESTATION_SURROUNDING",
  AttestationSurrounded = "ERR_ATTESTATION_SURROUNDED",
  AttestationSourceBelowLowWatermark = "ERR_ATTESTATION_SOURCE_BELOW_LOW_WATERMARK",
  AttestationTargetBelowLowWatermark = "ERR_ATTESTATION_TARGET_BELOW_LOW_WATERMARK",
  KeyDisabled = "ERR_KEY_DISABLED",
  /** The store holds less for the key than this process already released: records were lost (failover, restore). */
  StoreBehind = "ERR_PROTECTION_STORE_BEHIND",
  GenesisMismatch = "ERR_GENESIS_MISMATCH",
}

/** Every refusal names the incoming record and the record (or watermark) it conflicts with. */
export type ProtectionRefusal =
  | { code: ProtectionErrorCode.BlockDoubleProposal; incoming: BlockRecord; previous: BlockRecord }
  | { code: ProtectionErrorCode.BlockBelowLowWatermark; incoming: BlockRecord; previous: { lowSlot: bigint } }
  | { code: ProtectionErrorCode.AttestationSourceAfterTarget; incoming: AttestationRecord; previous: null }
  | { code: ProtectionErrorCode.AttestationDoubleVote; incoming: AttestationRecord; previous: AttestationRecord }
  | { code: ProtectionErrorCode.AttestationSurrounding; incoming: AttestationRecord; previous: AttestationRecord }
  | { code: ProtectionErrorCode.AttestationSurrounded; incoming: AttestationRecord; previous: AttestationRecord }
  | {
      code: ProtectionErrorCode.AttestationSourceBelowLowWatermark;
      incoming: AttestationRecord;
      previous: { lowSource: bigint };
    }
  | {
      code: ProtectionErrorCode.AttestationTargetBelowLowWatermark;
      incoming: AttestationRecord;
      previous: { lowTarget: bigint };
    }
  | { code: ProtectionErrorCode.KeyDisabled; incoming: BlockRecord | AttestationRecord; previous: null }
  | {
      code: ProtectionErrorCode.StoreBehind;
      incoming: BlockRecord | AttestationRecord;
      /** The highest slot or target this process released, and the highest the store holds now. */
      previous: { released: bigint; stored: bigint | null };
    };

export type ProtectionErrorType =
  | (ProtectionRefusal & { pubkey: string })
  | { code: ProtectionErrorCode.GenesisMismatch; expected: string; given: string };

const REASONS: Record<ProtectionErrorCode, string> = {
  [ProtectionErrorCode.BlockDoubleProposal]: "a different block was already signed at this slot",
  [ProtectionErrorCode.BlockBelowLowWatermark]: "slot is at or below the lowest slot this key may sign",
  [ProtectionErrorCode.AttestationSourceAfterTarget]: "source epoch is after target epoch",
  [ProtectionErrorCode.AttestationDoubleVote]: "a different attestation was already signed for this target epoch",
  [ProtectionErrorCode.AttestationSurrounding]: "the attestation surrounds one already signed",
  [ProtectionErrorCode.AttestationSurrounded]: "the attestation is surrounded by one already signed",
  [ProtectionErrorCode.AttestationSourceBelowLowWatermark]: "source epoch is below the lowest source this key may sign",
  [ProtectionErrorCode.AttestationTargetBelowLowWatermark]:
    "target epoch is at or below the lowest target this key may sign",
  [ProtectionErrorCode.KeyDisabled]: "the key is disabled in the slashing-protection database",
  [ProtectionErrorCode.StoreBehind]:
    "the slashing-protection database holds less for this key than this process already signed (records lost in a database failover or restore): the key stops signing until the history is restored and the signer restarted",
  [ProtectionErrorCode.GenesisMismatch]: "genesis validators root differs from the one this database is bound to",
};

export class SlashingProtectionError extends AppError<ProtectionErrorType> {
  constructor(type: ProtectionErrorType) {
    super(type, `${type.code}: ${describe(type)}`);
  }
}

function describe(t: ProtectionErrorType): string {
  const reason = REASONS[t.code];
  if (t.code === ProtectionErrorCode.GenesisMismatch) return `${reason} (database ${t.expected}, given ${t.given})`;
  return `${reason} (incoming ${fmt(t.incoming)}${t.previous === null ? "" : `, previous ${fmt(t.previous)}`})`;
}

function fmt(r: object): string {
  return Object.entries(r)
    .map(([k, v]) => `${k}=${v === null ? "none" : v instanceof Uint8Array ? toHex(v) : String(v)}`)
    .join(" ");
}
