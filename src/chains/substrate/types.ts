/** The three signature schemes of sp_core. */
export type CryptoType = "sr25519" | "ed25519" | "ecdsa";

export const CRYPTO_TYPES: readonly CryptoType[] = ["sr25519", "ed25519", "ecdsa"];

/** ecdsa keys are compressed secp256k1 points (33 bytes), whatever the proposal's comment says. */
export const PUBLIC_KEY_LENGTH: Record<CryptoType, number> = { sr25519: 32, ed25519: 32, ecdsa: 33 };

export enum GrandpaStage {
  Prevote = 0,
  Precommit = 1,
  PrimaryPropose = 2,
}

export const GRANDPA_STAGE_NAMES: Record<GrandpaStage, string> = {
  [GrandpaStage.Prevote]: "prevote",
  [GrandpaStage.Precommit]: "precommit",
  [GrandpaStage.PrimaryPropose]: "primary_propose",
};

/** A GRANDPA vote as the localized payload says. A null target (from an import conflict) equals nothing. */
export interface GrandpaRecord {
  kind: "grandpa";
  setId: bigint;
  round: bigint;
  stage: GrandpaStage;
  targetHash: Uint8Array | null;
  targetNumber: bigint | null;
}

/** A BABE seal: one header (pre-hash) per slot. A null pre-hash (from an import conflict) equals nothing. */
export interface BabeRecord {
  kind: "babe";
  slot: bigint;
  preHash: Uint8Array | null;
  authorityIndex: number | null;
}

/**
 * A parachain statement about a candidate. `seconded` and `valid` (backing, approval, explicit dispute
 * vote for) are on the valid side, `invalid` (explicit dispute vote against) on the other; one key on
 * both sides of one candidate is a dispute double vote.
 */
export type ParaStatement = "seconded" | "valid" | "invalid";

export interface ParaRecord {
  kind: "para";
  candidateHash: Uint8Array;
  statement: ParaStatement;
  session: bigint | null;
}

/** A BEEFY vote: one commitment per (validator set id, block number). A null hash (import conflict) equals nothing. */
export interface BeefyRecord {
  kind: "beefy";
  setId: bigint;
  blockNumber: bigint;
  commitmentHash: Uint8Array | null;
}

export type SubstrateRecord = GrandpaRecord | BabeRecord | ParaRecord | BeefyRecord;

export function paraSide(s: ParaStatement): "valid" | "invalid" {
  return s === "invalid" ? "invalid" : "valid";
}

/** What a node sends beside a seal so the signer can rebuild the header (RemoteKeystorePayload.BlockProposal). */
export interface BlockProposal {
  parentHash: Uint8Array;
  /** Block number (the proposal sends a decimal string). */
  number: bigint;
  stateRoot: Uint8Array;
  extrinsicsRoot: Uint8Array;
  /** SCALE-encoded Vec<DigestItem> of the header before the seal. */
  digest: Uint8Array;
}

/** RemoteKeystorePayload, decoded from the wire but not yet checked against the message. */
export interface PayloadView {
  blockProposal?: BlockProposal;
  grandpa?: { stage: GrandpaStage; targetHash: Uint8Array; targetNumber: bigint; round: bigint; setId: bigint };
  para?: { statement: ParaStatement; candidateHash: Uint8Array | null };
  /** SCALE-encoded BEEFY Commitment whose keccak_256 is the prehash being signed. */
  beefyCommitment?: Uint8Array;
  sessionIndex?: number;
}
