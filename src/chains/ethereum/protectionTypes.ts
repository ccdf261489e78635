/** A block the validator signed (or is asked to sign). A null root is "unknown" and equals nothing. */
export interface BlockRecord {
  slot: bigint;
  signingRoot: Uint8Array | null;
}

export interface AttestationRecord {
  source: bigint;
  target: bigint;
  signingRoot: Uint8Array | null;
}

/** What the store keeps per validator so that most decisions need no history scan. */
export interface BlockState {
  /** Nothing below is ever signed; at this slot only a repeat (EIP-3076 condition 2). */
  lowSlot: bigint | null;
  maxSlot: bigint | null;
}

export interface AttestationState {
  lowSource: bigint | null;
  lowTarget: bigint | null;
  maxSource: bigint | null;
  maxTarget: bigint | null;
}

export type BlockRequest = { kind: "block"; pubkey: Uint8Array } & BlockRecord;
export type AttestationRequest = { kind: "attestation"; pubkey: Uint8Array } & AttestationRecord;
export type ProtectionRequest = BlockRequest | AttestationRequest;

/** "new" = recorded now; "repeat" = the identical message was already recorded (nothing written). */
export type ProtectionOutcome = "new" | "repeat";

export const EMPTY_BLOCK_STATE: BlockState = { lowSlot: null, maxSlot: null };
export const EMPTY_ATTESTATION_STATE: AttestationState = {
  lowSource: null,
  lowTarget: null,
  maxSource: null,
  maxTarget: null,
};
