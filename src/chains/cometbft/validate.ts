import { CometWireError, CometWireErrorCode } from "./errors.js";
import {
  type BlockId,
  type Hrs,
  isZeroBlockId,
  type Proposal,
  SignedMsgType,
  Step,
  type Timestamp,
  type Vote,
} from "./types.js";

/** types/vote.go MaxVoteExtensionSize: a bigger extension is not something a correct node sends. */
const MAX_VOTE_EXTENSION_BYTES = 1024 * 1024;
/** spec/consensus/signing.md: chain ids are at most 50 bytes. */
export const MAX_CHAIN_ID_BYTES = 50;
const HASH_BYTES = 32;
const MAX_INT64 = (1n << 63n) - 1n;

const invalid = (message: string, field: string): CometWireError =>
  new CometWireError(CometWireErrorCode.InvalidRequest, message, field);

function checkBlockIdShape(b: BlockId, field: string): void {
  if (b.hash.length !== 0 && b.hash.length !== HASH_BYTES) throw invalid("block hash must be 0 or 32 bytes", field);
  const psh = b.partSetHeader.hash.length;
  if (psh !== 0 && psh !== HASH_BYTES) throw invalid("part-set header hash must be 0 or 32 bytes", field);
}

function isComplete(b: BlockId): boolean {
  return b.hash.length === HASH_BYTES && b.partSetHeader.total > 0 && b.partSetHeader.hash.length === HASH_BYTES;
}

function checkTimestamp(t: Timestamp, field: string): void {
  if (t.nanos < 0 || t.nanos > 999_999_999) throw invalid("timestamp nanos out of range", field);
}

function checkHeightRound(height: bigint, round: number): void {
  if (height <= 0n || height > MAX_INT64) throw invalid("height must be positive", "height");
  if (round < 0) throw invalid("round must not be negative", "round");
}

/**
 * Checks what CometBFT itself checks before signing a vote (Vote.ValidateBasic, privval/file.go) and
 * returns its height/round/step. Anything else is refused before the store is consulted.
 */
export function validateVote(v: Vote): Hrs {
  if (v.type !== SignedMsgType.Prevote && v.type !== SignedMsgType.Precommit)
    throw invalid(`vote type ${v.type} is neither prevote nor precommit`, "vote.type");
  checkHeightRound(v.height, v.round);
  checkBlockIdShape(v.blockId, "vote.block_id");
  const nil = isZeroBlockId(v.blockId);
  if (!nil && !isComplete(v.blockId)) throw invalid("block id must be either empty or complete", "vote.block_id");
  checkTimestamp(v.timestamp, "vote.timestamp");
  if (v.extension.length > 0 && (v.type !== SignedMsgType.Precommit || nil))
    throw invalid("unexpected vote extension: extensions are only allowed in non-nil precommits", "vote.extension");
  if (v.extension.length > MAX_VOTE_EXTENSION_BYTES) throw invalid("vote extension too large", "vote.extension");
  return { height: v.height, round: v.round, step: v.type === SignedMsgType.Prevote ? Step.Prevote : Step.Precommit };
}

/** Non-nil precommits carry an extension signature, even over an empty extension (privval/file.go signVote). */
export function needsExtensionSignature(v: Vote): boolean {
  return v.type === SignedMsgType.Precommit && !isZeroBlockId(v.blockId);
}

export function validateProposal(p: Proposal): Hrs {
  if (p.type !== SignedMsgType.Proposal) throw invalid(`proposal type ${p.type} is not 32`, "proposal.type");
  checkHeightRound(p.height, p.round);
  if (p.polRound < -1) throw invalid("pol_round must be -1 or more", "proposal.pol_round");
  if (p.polRound >= p.round) throw invalid("pol_round must be below round", "proposal.pol_round");
  checkBlockIdShape(p.blockId, "proposal.block_id");
  if (!isComplete(p.blockId)) throw invalid("a proposal needs a complete block id", "proposal.block_id");
  checkTimestamp(p.timestamp, "proposal.timestamp");
  return { height: p.height, round: p.round, step: Step.Propose };
}
