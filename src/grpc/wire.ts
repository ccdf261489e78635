import { GrandpaStage, type PayloadView, SubstrateError, SubstrateErrorCode } from "../chains/substrate/index.js";
import { StoreError } from "../store/errors.js";
import { isAppError } from "../util/errors.js";
import { canonicalUint } from "../util/u64.js";
import {
  RemoteKeystoreError as ProtoError,
  type RemoteKeystoreError__Output,
} from "./generated/parity/polkadot/signer/RemoteKeystoreError.js";
import type { RemoteKeystorePayload__Output } from "./generated/parity/polkadot/signer/RemoteKeystorePayload.js";

// The message and enum types come from substrate-remote-keystore.proto (`npm run gen:proto` writes them
// to generated/, which is not committed); this file only reads them into what the chain rules take.

/** RemoteKeystoreError of the proto, by short name. */
export const RemoteKeystoreError = {
  Unknown: ProtoError.REMOTE_KEYSTORE_ERROR_UNKNOWN,
  KeyNotSupported: ProtoError.REMOTE_KEYSTORE_ERROR_KEY_NOT_SUPPORTED,
  PairNotFound: ProtoError.REMOTE_KEYSTORE_ERROR_PAIR_NOT_FOUND,
  ValidationError: ProtoError.REMOTE_KEYSTORE_ERROR_VALIDATION_ERROR,
  Unavailable: ProtoError.REMOTE_KEYSTORE_ERROR_UNAVAILABLE,
  Other: ProtoError.REMOTE_KEYSTORE_ERROR_OTHER,
} as const;
export type RemoteKeystoreError = RemoteKeystoreError__Output;

/** A payload as @grpc/proto-loader hands it over (keepCase, bytes as Buffer, uint64 as decimal strings, oneof names). */
export type WirePayload = RemoteKeystorePayload__Output;

const bytes = (b: Buffer | undefined): Uint8Array => (b === undefined ? new Uint8Array() : new Uint8Array(b));

function malformed(detail: string): SubstrateError {
  return new SubstrateError({ code: SubstrateErrorCode.Malformed, what: "payload" }, `malformed payload: ${detail}`);
}

function u64(v: string | undefined, field: string): bigint {
  const n = v === undefined ? null : canonicalUint(v, 64);
  if (n === null) throw malformed(`${field} must be a decimal u64`);
  return n;
}

/** The proposal types GRANDPA target_number as bytes: read as the SCALE (little-endian) u32 or u64 it holds. */
function leNumber(b: Uint8Array, field: string): bigint {
  if (b.length !== 4 && b.length !== 8) throw malformed(`${field} must be a 4- or 8-byte little-endian number`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return b.length === 4 ? BigInt(v.getUint32(0, true)) : v.getBigUint64(0, true);
}

function hash32(b: Buffer | undefined, field: string): Uint8Array {
  const h = bytes(b);
  if (h.length !== 32) throw malformed(`${field} must be 32 bytes`);
  return h;
}

/** Converts the wire payload into what the chain rules read; fields that are present must be well formed. */
export function payloadView(p: WirePayload | null | undefined): PayloadView | null {
  if (p === null || p === undefined) return null;
  const view: PayloadView = {};
  if (p.session_index !== undefined && p.session_index !== 0) view.sessionIndex = p.session_index;
  switch (p.message) {
    case "block_proposal": {
      const b = p.block_proposal!;
      view.blockProposal = {
        parentHash: bytes(b.parent_hash),
        number: u64(b.number, "block_proposal.number"),
        stateRoot: bytes(b.state_root),
        extrinsicsRoot: bytes(b.extrinsics_root),
        digest: bytes(b.digest),
      };
      break;
    }
    case "grandpa_message": {
      const g = p.grandpa_message!;
      const stage =
        g.message === "pre_vote"
          ? GrandpaStage.Prevote
          : g.message === "pre_commit"
            ? GrandpaStage.Precommit
            : g.message === "primary_propose"
              ? GrandpaStage.PrimaryPropose
              : null;
      if (stage === null) throw malformed("grandpa_message needs pre_vote, pre_commit or primary_propose");
      const t = (g.pre_vote ?? g.pre_commit ?? g.primary_propose)!;
      view.grandpa = {
        stage,
        targetHash: hash32(t.target_hash, "grandpa_message target_hash"),
        targetNumber: leNumber(bytes(t.target_number), "grandpa_message target_number"),
        round: u64(g.round_number, "grandpa_message.round_number"),
        setId: u64(g.set_id, "grandpa_message.set_id"),
      };
      break;
    }
    case "valid":
      view.para = { statement: "valid", candidateHash: hash32(p.valid?.hash, "valid.hash") };
      break;
    case "invalid":
      view.para = { statement: "invalid", candidateHash: hash32(p.invalid?.hash, "invalid.hash") };
      break;
    case "seconded":
      // The candidate hash is blake2_256 of a receipt whose encoding changes between releases; the
      // signed backing statement carries the hash itself, so the rules read it from the message.
      view.para = { statement: "seconded", candidateHash: null };
      break;
    case "beefy_commitment":
      view.beefyCommitment = bytes(p.beefy_commitment);
      break;
    default:
      break;
  }
  return view;
}

/** The proto's error enum for a typed error; anything unexpected is OTHER (and logged by the caller). */
export function errorEnumOf(e: unknown): RemoteKeystoreError {
  // the store or the key's PKCS#11 token is down: nothing was signed, the node may ask again later
  if (e instanceof StoreError || (isAppError(e) && e.code.startsWith("ERR_HSM_")))
    return RemoteKeystoreError.Unavailable;
  if (e instanceof SubstrateError) {
    if (e.code === SubstrateErrorCode.CryptoType) return RemoteKeystoreError.KeyNotSupported;
    return RemoteKeystoreError.ValidationError;
  }
  if (isAppError(e) && (e.code.startsWith("ERR_SUBSTRATE_") || e.code.startsWith("ERR_BAD_"))) {
    return RemoteKeystoreError.ValidationError;
  }
  return RemoteKeystoreError.Other;
}
