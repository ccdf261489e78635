import { decodeProposal, decodeVote, encodeProposal, encodeVote, lenField, varintField } from "./consensusCodec.js";
import { CometWireError, CometWireErrorCode } from "./errors.js";
import { type FieldHeader, ProtoReader, ProtoWriter, WireType } from "./protobuf.js";
import { emptyProposal, emptyVote, type Proposal, type Vote } from "./types.js";

/** RemoteSignerError: the node logs it and skips this step; `code` is informational (2 = double sign by convention). */
export interface RemoteSignerError {
  code: number;
  description: string;
}

/**
 * Which PubKeyResponse layout to write. The 0.34-0.38 line (tendermint.privval) reads field 1
 * (PublicKey{ed25519}); v1.x (cometbft.privval.v1) reads fields 3/4 (bytes, "ed25519"). Both decoders
 * skip fields they do not know, so "both" answers either generation from one port.
 */
export type PubKeyLayout = "both" | "v0.38" | "v1";

/** privval.Message: the oneof of every request and response, tendermint.privval and cometbft.privval.v1. */
export type PrivvalMessage =
  | { kind: "pubKeyRequest"; chainId: string }
  | { kind: "pubKeyResponse"; pubKey: Uint8Array | null; error: RemoteSignerError | null; layout?: PubKeyLayout }
  | { kind: "signVoteRequest"; vote: Vote; chainId: string; skipExtensionSigning: boolean }
  | { kind: "signedVoteResponse"; vote: Vote; error: RemoteSignerError | null }
  | { kind: "signProposalRequest"; proposal: Proposal; chainId: string }
  | { kind: "signedProposalResponse"; proposal: Proposal; error: RemoteSignerError | null }
  | { kind: "pingRequest" }
  | { kind: "pingResponse" }
  | { kind: "signBytesRequest"; value: Uint8Array }
  | { kind: "signBytesResponse"; signature: Uint8Array; error: RemoteSignerError | null }
  /** A oneof field this signer does not know (a newer node): answered with an empty message. */
  | { kind: "unknown"; field: number }
  /** Message{} with no field set. */
  | { kind: "empty" };

const FIELD: Record<Exclude<PrivvalMessage["kind"], "unknown" | "empty">, number> = {
  pubKeyRequest: 1,
  pubKeyResponse: 2,
  signVoteRequest: 3,
  signedVoteResponse: 4,
  signProposalRequest: 5,
  signedProposalResponse: 6,
  pingRequest: 7,
  pingResponse: 8,
  signBytesRequest: 9,
  signBytesResponse: 10,
};

const malformed = (what: string): CometWireError => new CometWireError(CometWireErrorCode.Malformed, what);

// ---- encoding ----

function writeError(w: ProtoWriter, field: number, e: RemoteSignerError | null): void {
  if (e === null) return;
  w.message(field, (m) => {
    if (e.code !== 0) m.varint(1, e.code);
    if (e.description.length > 0) m.string(2, e.description);
  });
}

/** privval.Message bytes (without the outer length prefix). */
export function encodePrivvalMessage(msg: PrivvalMessage): Uint8Array {
  const w = new ProtoWriter();
  switch (msg.kind) {
    case "empty":
    case "unknown":
      break;
    case "pubKeyRequest":
      w.message(FIELD.pubKeyRequest, (m) => {
        if (msg.chainId.length > 0) m.string(1, msg.chainId);
      });
      break;
    case "pubKeyResponse": {
      const layout = msg.layout ?? "both";
      w.message(FIELD.pubKeyResponse, (m) => {
        if (layout !== "v1")
          m.message(1, (k) => {
            if (msg.pubKey !== null) k.bytes(1, msg.pubKey);
          });
        writeError(m, 2, msg.error);
        if (layout !== "v0.38" && msg.pubKey !== null) m.bytes(3, msg.pubKey).string(4, "ed25519");
      });
      break;
    }
    case "signVoteRequest":
      w.message(FIELD.signVoteRequest, (m) => {
        m.message(1, (v) => encodeVote(v, msg.vote));
        if (msg.chainId.length > 0) m.string(2, msg.chainId);
        if (msg.skipExtensionSigning) m.bool(3, true);
      });
      break;
    case "signedVoteResponse":
      w.message(FIELD.signedVoteResponse, (m) => {
        m.message(1, (v) => encodeVote(v, msg.vote));
        writeError(m, 2, msg.error);
      });
      break;
    case "signProposalRequest":
      w.message(FIELD.signProposalRequest, (m) => {
        m.message(1, (p) => encodeProposal(p, msg.proposal));
        if (msg.chainId.length > 0) m.string(2, msg.chainId);
      });
      break;
    case "signedProposalResponse":
      w.message(FIELD.signedProposalResponse, (m) => {
        m.message(1, (p) => encodeProposal(p, msg.proposal));
        writeError(m, 2, msg.error);
      });
      break;
    case "pingRequest":
      w.message(FIELD.pingRequest, () => {});
      break;
    case "pingResponse":
      w.message(FIELD.pingResponse, () => {});
      break;
    case "signBytesRequest":
      w.message(FIELD.signBytesRequest, (m) => {
        if (msg.value.length > 0) m.bytes(1, msg.value);
      });
      break;
    case "signBytesResponse":
      w.message(FIELD.signBytesResponse, (m) => {
        if (msg.signature.length > 0) m.bytes(1, msg.signature);
        writeError(m, 2, msg.error);
      });
      break;
  }
  return w.finish();
}

// ---- decoding ----

function readError(bytes: Uint8Array): RemoteSignerError {
  const r = new ProtoReader(bytes);
  const e: RemoteSignerError = { code: 0, description: "" };
  for (let h = r.next(); h !== null; h = r.next()) {
    if (h.field === 1) e.code = varintField(r, h).int32();
    else if (h.field === 2) {
      r.expect(h, WireType.Len);
      e.description = r.string();
    } else r.skip(h.wt);
  }
  return e;
}

/** Decodes the fields of one oneof member with `each`, skipping unknown fields as gogoproto does. */
function fields(bytes: Uint8Array, each: (r: ProtoReader, h: FieldHeader) => boolean): void {
  const r = new ProtoReader(bytes);
  for (let h = r.next(); h !== null; h = r.next()) if (!each(r, h)) r.skip(h.wt);
}

function readString(r: ProtoReader, h: FieldHeader): string {
  r.expect(h, WireType.Len);
  return r.string();
}

function decodeMember(field: number, body: Uint8Array): PrivvalMessage {
  switch (field) {
    case 1: {
      let chainId = "";
      fields(body, (r, h) => {
        if (h.field !== 1) return false;
        chainId = readString(r, h);
        return true;
      });
      return { kind: "pubKeyRequest", chainId };
    }
    case 2: {
      let pubKey: Uint8Array | null = null;
      let error: RemoteSignerError | null = null;
      fields(body, (r, h) => {
        if (h.field === 1)
          fields(lenField(r, h), (k, kh) => {
            if (kh.field !== 1) return false;
            pubKey = lenField(k, kh);
            return true;
          });
        else if (h.field === 2) error = readError(lenField(r, h));
        else if (h.field === 3) pubKey = lenField(r, h);
        else return false;
        return true;
      });
      return { kind: "pubKeyResponse", pubKey, error };
    }
    case 3: {
      let vote = emptyVote();
      let chainId = "";
      let skipExtensionSigning = false;
      fields(body, (r, h) => {
        if (h.field === 1) vote = decodeVote(lenField(r, h));
        else if (h.field === 2) chainId = readString(r, h);
        else if (h.field === 3) skipExtensionSigning = varintField(r, h).bool();
        else return false;
        return true;
      });
      return { kind: "signVoteRequest", vote, chainId, skipExtensionSigning };
    }
    case 4: {
      let vote = emptyVote();
      let error: RemoteSignerError | null = null;
      fields(body, (r, h) => {
        if (h.field === 1) vote = decodeVote(lenField(r, h));
        else if (h.field === 2) error = readError(lenField(r, h));
        else return false;
        return true;
      });
      return { kind: "signedVoteResponse", vote, error };
    }
    case 5: {
      let proposal = emptyProposal();
      let chainId = "";
      fields(body, (r, h) => {
        if (h.field === 1) proposal = decodeProposal(lenField(r, h));
        else if (h.field === 2) chainId = readString(r, h);
        else return false;
        return true;
      });
      return { kind: "signProposalRequest", proposal, chainId };
    }
    case 6: {
      let proposal = emptyProposal();
      let error: RemoteSignerError | null = null;
      fields(body, (r, h) => {
        if (h.field === 1) proposal = decodeProposal(lenField(r, h));
        else if (h.field === 2) error = readError(lenField(r, h));
        else return false;
        return true;
      });
      return { kind: "signedProposalResponse", proposal, error };
    }
    case 7:
      fields(body, () => false);
      return { kind: "pingRequest" };
    case 8:
      fields(body, () => false);
      return { kind: "pingResponse" };
    case 9: {
      let value: Uint8Array = new Uint8Array(0);
      fields(body, (r, h) => {
        if (h.field !== 1) return false;
        value = lenField(r, h);
        return true;
      });
      return { kind: "signBytesRequest", value };
    }
    case 10: {
      let signature: Uint8Array = new Uint8Array(0);
      let error: RemoteSignerError | null = null;
      fields(body, (r, h) => {
        if (h.field === 1) signature = lenField(r, h);
        else if (h.field === 2) error = readError(lenField(r, h));
        else return false;
        return true;
      });
      return { kind: "signBytesResponse", signature, error };
    }
    default:
      return { kind: "unknown", field };
  }
}

/**
 * Decodes privval.Message bytes (without the length prefix). Exactly one oneof member may be set:
 * two members in one message is refused as malformed rather than "last one wins".
 */
export function decodePrivvalMessage(bytes: Uint8Array): PrivvalMessage {
  const r = new ProtoReader(bytes);
  let member: { field: number; body: Uint8Array } | null = null;
  for (let h = r.next(); h !== null; h = r.next()) {
    r.expect(h, WireType.Len);
    const body = r.bytes();
    if (member !== null) throw malformed("privval message sets more than one member");
    member = { field: h.field, body };
  }
  return member === null ? { kind: "empty" } : decodeMember(member.field, member.body);
}
