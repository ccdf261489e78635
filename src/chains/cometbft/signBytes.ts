import { readBlockId, readTimestamp, writeBlockId, writeTimestamp } from "./consensusCodec.js";
import { CometWireError, CometWireErrorCode } from "./errors.js";
import { delimit, ProtoReader, ProtoWriter, readDelimited, WireType } from "./protobuf.js";
import { type BlockId, isZeroBlockId, type Proposal, SignedMsgType, type Timestamp, type Vote } from "./types.js";

/**
 * What is signed for a vote or a proposal: CanonicalVote / CanonicalProposal (types/canonical.go),
 * length-prefixed. The block id is null for a nil vote (omitted on the wire).
 */
export interface CanonicalMessage {
  kind: "vote" | "proposal";
  type: number;
  height: bigint;
  round: bigint;
  /** Proposals only (−1 when there is no proof-of-lock round). */
  polRound: bigint;
  blockId: BlockId | null;
  timestamp: Timestamp;
  chainId: string;
}

/** Canonical sign bytes; byte-exact with CometBFT (proto3 defaults omitted, sfixed64 height/round). */
export function encodeCanonical(c: CanonicalMessage): Uint8Array {
  const w = new ProtoWriter();
  if (c.type !== 0) w.varint(1, c.type);
  if (c.height !== 0n) w.sfixed64(2, c.height);
  if (c.round !== 0n) w.sfixed64(3, c.round);
  const proposal = c.kind === "proposal";
  if (proposal && c.polRound !== 0n) w.varint(4, c.polRound);
  if (c.blockId !== null) writeBlockId(w, proposal ? 5 : 4, c.blockId);
  writeTimestamp(w, proposal ? 6 : 5, c.timestamp);
  if (c.chainId.length > 0) w.string(proposal ? 7 : 6, c.chainId);
  return delimit(w.finish());
}

/** CanonicalVote / CanonicalProposal: a vote has no proof-of-lock round. */
function canonical(chainId: string, m: Vote | Proposal, kind: "vote" | "proposal"): CanonicalMessage {
  return {
    kind,
    type: m.type,
    height: m.height,
    round: BigInt(m.round),
    polRound: kind === "proposal" ? BigInt((m as Proposal).polRound) : 0n,
    blockId: isZeroBlockId(m.blockId) ? null : m.blockId,
    timestamp: m.timestamp,
    chainId,
  };
}

export const voteSignBytes = (chainId: string, v: Vote): Uint8Array => encodeCanonical(canonical(chainId, v, "vote"));

export const proposalSignBytes = (chainId: string, p: Proposal): Uint8Array =>
  encodeCanonical(canonical(chainId, p, "proposal"));

/** CanonicalVoteExtension: what the extension signature of a non-nil precommit covers. */
export function voteExtensionSignBytes(chainId: string, v: Vote): Uint8Array {
  const w = new ProtoWriter();
  if (v.extension.length > 0) w.bytes(1, v.extension);
  if (v.height !== 0n) w.sfixed64(2, v.height);
  if (v.round !== 0) w.sfixed64(3, BigInt(v.round));
  if (chainId.length > 0) w.string(4, chainId);
  return delimit(w.finish());
}

const malformed = (what: string): CometWireError =>
  new CometWireError(CometWireErrorCode.Malformed, `sign bytes: ${what}`);

/**
 * Decodes stored sign bytes (ours, or imported from a priv_validator_state.json). Strict: an unknown
 * field or a wire type the schema does not give is malformed, because only canonical bytes are kept.
 */
export function decodeCanonical(signBytes: Uint8Array): CanonicalMessage {
  const framed = readDelimited(signBytes, signBytes.length);
  if (framed === null || framed.used !== signBytes.length) throw malformed("length prefix does not match");
  const r = new ProtoReader(framed.body);
  const c: CanonicalMessage = {
    kind: "vote",
    type: 0,
    height: 0n,
    round: 0n,
    polRound: 0n,
    blockId: null,
    timestamp: { seconds: 0n, nanos: 0 },
    chainId: "",
  };
  let sawTimestamp = false;
  for (let h = r.next(); h !== null; h = r.next()) {
    // Field 1 comes first in canonical bytes and decides the schema of the rest.
    if (h.field === 1) {
      r.expect(h, WireType.Varint);
      c.type = Number(BigInt.asUintN(32, r.varint()));
      if (c.type === SignedMsgType.Proposal) c.kind = "proposal";
      continue;
    }
    const p = c.kind === "proposal";
    if (h.field === 2) {
      r.expect(h, WireType.Fixed64);
      c.height = r.sfixed64();
    } else if (h.field === 3) {
      r.expect(h, WireType.Fixed64);
      c.round = r.sfixed64();
    } else if (p && h.field === 4) {
      r.expect(h, WireType.Varint);
      c.polRound = r.int64();
    } else if (h.field === (p ? 5 : 4)) {
      r.expect(h, WireType.Len);
      c.blockId = readBlockId(r.bytes(), true);
    } else if (h.field === (p ? 6 : 5)) {
      r.expect(h, WireType.Len);
      c.timestamp = readTimestamp(r.bytes());
      sawTimestamp = true;
    } else if (h.field === (p ? 7 : 6)) {
      r.expect(h, WireType.Len);
      c.chainId = r.string();
    } else throw malformed(`unexpected field ${h.field}`);
  }
  if (!sawTimestamp) throw malformed("timestamp missing");
  return c;
}

/**
 * FilePV's "only the timestamp differs" test: `stored` re-encoded with the incoming timestamp must be
 * byte-equal to `incoming`. Both encodings are canonical, so byte equality is message equality; stored
 * bytes that are not canonical never match (the request is refused, which is the safe side).
 */
export function differOnlyByTimestamp(stored: Uint8Array, incoming: Uint8Array): Timestamp | null {
  let a: CanonicalMessage;
  let b: CanonicalMessage;
  try {
    a = decodeCanonical(stored);
    b = decodeCanonical(incoming);
  } catch {
    return null;
  }
  if (!bytesEq(encodeCanonical(a), stored)) return null;
  return bytesEq(encodeCanonical({ ...a, timestamp: b.timestamp }), incoming) ? a.timestamp : null;
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
