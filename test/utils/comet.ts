import { createHash } from "node:crypto";
import { voteSignBytes } from "../../src/chains/cometbft/signBytes.js";
import {
  type BlockId,
  emptyVote,
  Step,
  type Timestamp,
  type Vote,
  ZERO_BLOCK_ID,
} from "../../src/chains/cometbft/types.js";
import type { CometSignRequest } from "../../src/protection/cometbft/types.js";
import { type Ed25519Key, ed25519FromSeed } from "../../src/util/curve25519.js";

export const CHAIN_ID = "test-chain-1";

export const seedOf = (label: string): Uint8Array =>
  new Uint8Array(createHash("sha256").update(`seed:${label}`).digest());

export const testKey = (label: string): Ed25519Key => ed25519FromSeed(seedOf(label));

const h32 = (s: string): Uint8Array => new Uint8Array(createHash("sha256").update(s).digest());

/** A complete block id named `name` ("nil" for a nil vote). */
export function blockId(name: string): BlockId {
  if (name === "nil") return ZERO_BLOCK_ID;
  return { hash: h32(`block:${name}`), partSetHeader: { total: 1, hash: h32(`parts:${name}`) } };
}

export const T0: Timestamp = { seconds: 1_700_000_000n, nanos: 1 };

export function vote(
  type: "prevote" | "precommit",
  height: bigint | number,
  round: number,
  block: string,
  timestamp: Timestamp = T0,
): Vote {
  return {
    ...emptyVote(),
    type: type === "prevote" ? 1 : 2,
    height: BigInt(height),
    round,
    blockId: blockId(block),
    timestamp,
  };
}

/** A protection request for a vote of `key` on CHAIN_ID. */
export function voteRequest(
  key: Ed25519Key,
  type: "prevote" | "precommit",
  height: bigint | number,
  round: number,
  block: string,
  timestamp: Timestamp = T0,
  chainId = CHAIN_ID,
): CometSignRequest {
  const v = vote(type, height, round, block, timestamp);
  return {
    chainId,
    pubkey: key.publicKey,
    kind: "vote",
    hrs: { height: v.height, round, step: type === "prevote" ? Step.Prevote : Step.Precommit },
    signBytes: voteSignBytes(chainId, v),
  };
}
