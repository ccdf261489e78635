/** CometBFT consensus messages in domain form (64-bit numbers as bigint, hashes as bytes). */

/** google.protobuf.Timestamp with nanosecond precision (a JS Date would lose the nanoseconds). */
export interface Timestamp {
  seconds: bigint;
  nanos: number;
}

/** Go's zero time.Time, which gogoproto writes for an empty non-nullable timestamp. */
export const GO_ZERO_TIME: Timestamp = { seconds: -62135596800n, nanos: 0 };

export interface PartSetHeader {
  total: number;
  hash: Uint8Array;
}

export interface BlockId {
  hash: Uint8Array;
  partSetHeader: PartSetHeader;
}

export const ZERO_BLOCK_ID: BlockId = { hash: new Uint8Array(0), partSetHeader: { total: 0, hash: new Uint8Array(0) } };

/** tendermint.types.SignedMsgType as it is on the wire. */
export enum SignedMsgType {
  Unknown = 0,
  Prevote = 1,
  Precommit = 2,
  Proposal = 32,
}

export interface Vote {
  type: number;
  height: bigint;
  round: number;
  blockId: BlockId;
  timestamp: Timestamp;
  validatorAddress: Uint8Array;
  validatorIndex: number;
  signature: Uint8Array;
  extension: Uint8Array;
  extensionSignature: Uint8Array;
}

export interface Proposal {
  type: number;
  height: bigint;
  round: number;
  polRound: number;
  blockId: BlockId;
  timestamp: Timestamp;
  signature: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function emptyVote(): Vote {
  return {
    type: 0,
    height: 0n,
    round: 0,
    blockId: ZERO_BLOCK_ID,
    timestamp: GO_ZERO_TIME,
    validatorAddress: EMPTY,
    validatorIndex: 0,
    signature: EMPTY,
    extension: EMPTY,
    extensionSignature: EMPTY,
  };
}

export function emptyProposal(): Proposal {
  return {
    type: 0,
    height: 0n,
    round: 0,
    polRound: 0,
    blockId: ZERO_BLOCK_ID,
    timestamp: GO_ZERO_TIME,
    signature: EMPTY,
  };
}

/** BlockID.IsZero: a nil vote (empty hash and an empty part-set header). */
export function isZeroBlockId(b: BlockId): boolean {
  return b.hash.length === 0 && b.partSetHeader.total === 0 && b.partSetHeader.hash.length === 0;
}

/**
 * FilePV's step numbering (privval/file.go): 0 none, 1 propose, 2 prevote, 3 precommit. The wire type
 * (prevote 1, precommit 2, proposal 32) and tmkms (proposal 0, prevote 1, precommit 2) differ.
 */
export enum Step {
  None = 0,
  Propose = 1,
  Prevote = 2,
  Precommit = 3,
}

/** Height, round and step: the position a signature takes in consensus. */
export interface Hrs {
  height: bigint;
  round: number;
  step: Step;
}

export function compareHrs(a: Hrs, b: Hrs): number {
  if (a.height !== b.height) return a.height < b.height ? -1 : 1;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return a.step - b.step;
}

export const formatHrs = (h: Hrs): string => `${h.height}/${h.round}/${h.step}`;
