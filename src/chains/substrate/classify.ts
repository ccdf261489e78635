import { bytesEqual } from "../../util/hex.js";
import { checkBabeSeal } from "./babe.js";
import { checkBeefyCommitment } from "./beefy.js";
import { SubstrateError, SubstrateErrorCode } from "./errors.js";
import { decodeGrandpaPayload } from "./grandpa.js";
import { decodeParaMessage } from "./para.js";
import { type PayloadView, paraSide, type SubstrateRecord } from "./types.js";

export interface ClassifyOptions {
  /**
   * A BABE seal and a BEEFY vote sign a bare hash, so without the block proposal (BEEFY: the
   * commitment) the slot or round is unknown and the signature cannot be protected. true (the default)
   * refuses such requests; false signs them unprotected.
   */
  requirePayload: boolean;
}

/**
 * What a signing request commits the key to, as records for the protection rules. [] means nothing
 * slashable (the request is signed without a record). Throws on a malformed message, a payload that
 * disagrees with the message, or a BABE seal without its block proposal.
 */
export function classifySignRequest(
  keyType: string,
  message: Uint8Array,
  payload: PayloadView | null,
  opts: ClassifyOptions,
): SubstrateRecord[] {
  switch (keyType) {
    case "gran":
      return [grandpa(message, payload)];
    case "babe":
      if (payload?.blockProposal !== undefined) return [checkBabeSeal(message, payload.blockProposal)];
      if (opts.requirePayload) {
        throw new SubstrateError({
          code: SubstrateErrorCode.NoPayload,
          detail: "a BABE seal needs payload.block_proposal: the 32-byte hash alone does not say which slot it seals",
        });
      }
      return [];
    case "para":
      return para(message, payload);
    default:
      return [];
  }
}

/**
 * The same for ecdsa_sign_prehashed: a `beef` key signs BEEFY votes, which need payload.beefy_commitment
 * (keccak_256 of it must be the prehash); other key types sign unprotected.
 */
export function classifyPrehashed(
  keyType: string,
  prehash: Uint8Array,
  payload: PayloadView | null,
  opts: ClassifyOptions,
): SubstrateRecord[] {
  if (keyType !== "beef") return [];
  if (payload?.beefyCommitment !== undefined) return [checkBeefyCommitment(prehash, payload.beefyCommitment)];
  if (opts.requirePayload) {
    throw new SubstrateError({
      code: SubstrateErrorCode.NoPayload,
      detail:
        "a BEEFY vote needs payload.beefy_commitment: the 32-byte hash alone does not say which block it votes for",
    });
  }
  return [];
}

function grandpa(message: Uint8Array, payload: PayloadView | null): SubstrateRecord {
  const rec = decodeGrandpaPayload(message);
  const g = payload?.grandpa;
  if (
    g !== undefined &&
    (g.stage !== rec.stage ||
      g.round !== rec.round ||
      g.setId !== rec.setId ||
      g.targetNumber !== rec.targetNumber ||
      !bytesEqual(g.targetHash, rec.targetHash))
  ) {
    throw mismatch("payload.grandpa_message disagrees with the signed GRANDPA payload");
  }
  return rec;
}

function para(message: Uint8Array, payload: PayloadView | null): SubstrateRecord[] {
  const recs = decodeParaMessage(message);
  const p = payload?.para;
  if (p === undefined) return recs;
  if (recs.length === 0) {
    // A message we cannot read: the node's claim can only add a restriction, so record it.
    if (p.candidateHash === null) return [];
    const session = payload?.sessionIndex === undefined ? null : BigInt(payload.sessionIndex);
    return [{ kind: "para", candidateHash: p.candidateHash, statement: p.statement, session }];
  }
  const agrees = recs.some(
    (r) =>
      paraSide(r.statement) === paraSide(p.statement) &&
      (p.candidateHash === null || bytesEqual(p.candidateHash, r.candidateHash)),
  );
  if (!agrees) throw mismatch("the payload's parachain statement disagrees with the signed message");
  return recs;
}

function mismatch(detail: string): SubstrateError {
  return new SubstrateError({ code: SubstrateErrorCode.PayloadMismatch, detail });
}
