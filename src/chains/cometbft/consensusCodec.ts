import { CometWireError, CometWireErrorCode } from "./errors.js";
import { type FieldHeader, ProtoReader, type ProtoWriter, WireType } from "./protobuf.js";
import { type BlockId, emptyProposal, emptyVote, type Proposal, type Timestamp, type Vote } from "./types.js";

/**
 * tendermint.types Vote, Proposal, BlockID and google.protobuf.Timestamp on the wire, gogoproto style:
 * proto3 defaults left out, non-nullable sub-messages (block id, part-set header, timestamp) always
 * written. Decoding accepts both presence and absence.
 */

export function writeTimestamp(w: ProtoWriter, field: number, t: Timestamp): void {
  w.message(field, (m) => {
    if (t.seconds !== 0n) m.varint(1, t.seconds);
    if (t.nanos !== 0) m.varint(2, t.nanos);
  });
}

export function readTimestamp(bytes: Uint8Array): Timestamp {
  const r = new ProtoReader(bytes);
  let seconds = 0n;
  let nanos = 0;
  for (let h = r.next(); h !== null; h = r.next()) {
    if (h.field === 1) seconds = varintField(r, h).int64();
    else if (h.field === 2) nanos = varintField(r, h).int32();
    else r.skip(h.wt);
  }
  return { seconds, nanos };
}

export function writeBlockId(w: ProtoWriter, field: number, b: BlockId): void {
  // Written whenever the caller writes it (non-nullable in tendermint.types); its part-set header always.
  w.message(field, (m) => {
    if (b.hash.length > 0) m.bytes(1, b.hash);
    m.message(2, (p) => {
      if (b.partSetHeader.total !== 0) p.varint(1, b.partSetHeader.total);
      if (b.partSetHeader.hash.length > 0) p.bytes(2, b.partSetHeader.hash);
    });
  });
}

export function encodeVote(w: ProtoWriter, v: Vote): void {
  if (v.type !== 0) w.varint(1, v.type);
  if (v.height !== 0n) w.varint(2, v.height);
  if (v.round !== 0) w.varint(3, v.round);
  writeBlockId(w, 4, v.blockId);
  writeTimestamp(w, 5, v.timestamp);
  if (v.validatorAddress.length > 0) w.bytes(6, v.validatorAddress);
  if (v.validatorIndex !== 0) w.varint(7, v.validatorIndex);
  if (v.signature.length > 0) w.bytes(8, v.signature);
  if (v.extension.length > 0) w.bytes(9, v.extension);
  if (v.extensionSignature.length > 0) w.bytes(10, v.extensionSignature);
}

export function encodeProposal(w: ProtoWriter, p: Proposal): void {
  if (p.type !== 0) w.varint(1, p.type);
  if (p.height !== 0n) w.varint(2, p.height);
  if (p.round !== 0) w.varint(3, p.round);
  if (p.polRound !== 0) w.varint(4, p.polRound);
  writeBlockId(w, 5, p.blockId);
  writeTimestamp(w, 6, p.timestamp);
  if (p.signature.length > 0) w.bytes(7, p.signature);
}

/**
 * Reads a BlockID. `strict` (canonical sign bytes) refuses unknown fields; otherwise they are skipped
 * as gogoproto does. A known field with another wire type is malformed either way.
 */
export function readBlockId(bytes: Uint8Array, strict = false): BlockId {
  const other = (r: ProtoReader, h: FieldHeader): void => {
    if (strict) throw new CometWireError(CometWireErrorCode.Malformed, `unexpected block id field ${h.field}`);
    r.skip(h.wt);
  };
  const r = new ProtoReader(bytes);
  let hash: Uint8Array = new Uint8Array(0);
  let total = 0;
  let pshHash: Uint8Array = new Uint8Array(0);
  for (let h = r.next(); h !== null; h = r.next()) {
    if (h.field === 1) hash = lenField(r, h);
    else if (h.field === 2) {
      const p = new ProtoReader(lenField(r, h));
      for (let f = p.next(); f !== null; f = p.next()) {
        if (f.field === 1) {
          p.expect(f, WireType.Varint);
          total = p.uint32();
        } else if (f.field === 2) pshHash = lenField(p, f);
        else other(p, f);
      }
    } else other(r, h);
  }
  return { hash, partSetHeader: { total, hash: pshHash } };
}

export function lenField(r: ProtoReader, h: FieldHeader): Uint8Array {
  r.expect(h, WireType.Len);
  return r.bytes();
}

export function varintField(r: ProtoReader, h: FieldHeader): ProtoReader {
  r.expect(h, WireType.Varint);
  return r;
}

export function decodeVote(bytes: Uint8Array): Vote {
  const r = new ProtoReader(bytes);
  const v = emptyVote();
  for (let h = r.next(); h !== null; h = r.next()) {
    switch (h.field) {
      case 1:
        v.type = varintField(r, h).int32();
        break;
      case 2:
        v.height = varintField(r, h).int64();
        break;
      case 3:
        v.round = varintField(r, h).int32();
        break;
      case 4:
        v.blockId = readBlockId(lenField(r, h));
        break;
      case 5:
        v.timestamp = readTimestamp(lenField(r, h));
        break;
      case 6:
        v.validatorAddress = lenField(r, h);
        break;
      case 7:
        v.validatorIndex = varintField(r, h).int32();
        break;
      case 8:
        v.signature = lenField(r, h);
        break;
      case 9:
        v.extension = lenField(r, h);
        break;
      case 10:
        v.extensionSignature = lenField(r, h);
        break;
      default:
        r.skip(h.wt);
    }
  }
  return v;
}

export function decodeProposal(bytes: Uint8Array): Proposal {
  const r = new ProtoReader(bytes);
  const p = emptyProposal();
  for (let h = r.next(); h !== null; h = r.next()) {
    switch (h.field) {
      case 1:
        p.type = varintField(r, h).int32();
        break;
      case 2:
        p.height = varintField(r, h).int64();
        break;
      case 3:
        p.round = varintField(r, h).int32();
        break;
      case 4:
        p.polRound = varintField(r, h).int32();
        break;
      case 5:
        p.blockId = readBlockId(lenField(r, h));
        break;
      case 6:
        p.timestamp = readTimestamp(lenField(r, h));
        break;
      case 7:
        p.signature = lenField(r, h);
        break;
      default:
        r.skip(h.wt);
    }
  }
  return p;
}
