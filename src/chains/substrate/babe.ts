import { blake2b } from "@noble/hashes/blake2.js";
import { SubstrateError, SubstrateErrorCode } from "./errors.js";
import { concatBytes, encodeCompact, ScaleReader } from "./scale.js";
import type { BabeRecord, BlockProposal } from "./types.js";

/** DigestItem variants (sp_runtime::generic::DigestItem). */
enum DigestTag {
  Other = 0,
  Consensus = 4,
  Seal = 5,
  PreRuntime = 6,
  RuntimeEnvironmentUpdated = 8,
}

const BABE_ENGINE_ID = "BABE";

enum BabePreDigestKind {
  Primary = 1,
  SecondaryPlain = 2,
  SecondaryVrf = 3,
}

export interface BabePreDigest {
  kind: BabePreDigestKind;
  authorityIndex: number;
  slot: bigint;
}

/** What a seal request is about once its header has been rebuilt and checked. */
export interface BabeSeal extends BabeRecord {
  preHash: Uint8Array;
  authorityIndex: number;
  preDigestKind: BabePreDigestKind;
  blockNumber: bigint;
}

export function blake2_256(data: Uint8Array): Uint8Array {
  return blake2b(data, { dkLen: 32 });
}

/** SCALE(Header) of the pre-seal header: parent, Compact(number), state root, extrinsics root, digest. */
export function encodeHeader(p: BlockProposal): Uint8Array {
  return concatBytes(p.parentHash, encodeCompact(p.number), p.stateRoot, p.extrinsicsRoot, p.digest);
}

/**
 * Rebuilds the header a seal is for, requires blake2_256(SCALE(header)) == message (so the proposal is
 * the block the node asks us to seal), and reads (authority index, slot) from the BABE pre-runtime digest.
 */
export function checkBabeSeal(message: Uint8Array, p: BlockProposal): BabeSeal {
  if (message.length !== 32) {
    throw new SubstrateError(
      { code: SubstrateErrorCode.Malformed, what: "BABE seal message" },
      `a BABE seal signs a 32-byte header hash, got ${message.length} bytes`,
    );
  }
  for (const [name, v] of [
    ["parent_hash", p.parentHash],
    ["state_root", p.stateRoot],
    ["extrinsics_root", p.extrinsicsRoot],
  ] as const) {
    if (v.length !== 32) {
      throw new SubstrateError(
        { code: SubstrateErrorCode.Malformed, what: "block proposal" },
        `block_proposal.${name} must be 32 bytes, got ${v.length}`,
      );
    }
  }
  const pre = babePreDigestOf(p.digest);
  const preHash = blake2_256(encodeHeader(p));
  if (Buffer.compare(preHash, message) !== 0) {
    throw new SubstrateError({
      code: SubstrateErrorCode.PayloadMismatch,
      detail: "the message is not blake2_256 of the block proposal's header; refusing to seal a header we cannot see",
    });
  }
  return {
    kind: "babe",
    slot: pre.slot,
    preHash,
    authorityIndex: pre.authorityIndex,
    preDigestKind: pre.kind,
    blockNumber: p.number,
  };
}

/** Finds the one BABE pre-runtime digest; a pre-seal digest that already holds a seal is refused. */
export function babePreDigestOf(digest: Uint8Array): BabePreDigest {
  const r = new ScaleReader(digest, "header digest");
  const n = r.compact("digest length");
  let found: BabePreDigest | null = null;
  for (let i = 0n; i < n; i++) {
    const tag = r.u8("digest item kind");
    switch (tag) {
      case DigestTag.Other:
        r.vecU8("other digest");
        break;
      case DigestTag.Consensus:
      case DigestTag.PreRuntime: {
        const engine = Buffer.from(r.fixed(4, "engine id")).toString("latin1");
        const data = r.vecU8("digest data");
        if (tag === DigestTag.PreRuntime && engine === BABE_ENGINE_ID) {
          if (found !== null) throw r.malformed("two BABE pre-runtime digests");
          found = decodePreDigest(data);
        }
        break;
      }
      case DigestTag.Seal:
        throw r.malformed("the pre-seal header already holds a seal");
      case DigestTag.RuntimeEnvironmentUpdated:
        break;
      default:
        throw r.malformed(`unknown digest item kind ${tag}`);
    }
  }
  r.end();
  if (found === null) throw r.malformed("no BABE pre-runtime digest (not a BABE header)");
  return found;
}

/** PreDigest: 1 Primary / 3 SecondaryVRF {authority_index u32, slot u64, pre_output 32, proof 64}, 2 SecondaryPlain {u32, u64}. */
function decodePreDigest(data: Uint8Array): BabePreDigest {
  const r = new ScaleReader(data, "BABE pre-digest");
  const kind = r.u8("pre-digest kind");
  if (kind < BabePreDigestKind.Primary || kind > BabePreDigestKind.SecondaryVrf) {
    throw r.malformed(`unknown BABE pre-digest kind ${kind}`);
  }
  const authorityIndex = r.u32("authority index");
  const slot = r.u64("slot");
  if (kind !== BabePreDigestKind.SecondaryPlain) r.fixed(96, "VRF signature");
  r.end();
  return { kind, authorityIndex, slot };
}
