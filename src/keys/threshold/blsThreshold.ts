import blst from "@chainsafe/blst";
import { ThresholdError, ThresholdErrorCode } from "./errors.js";
import { bls12381G1 } from "./group.js";
import { assertIndexSet, lagrangeAtZero, splitSecret } from "./shamir.js";

const g = bls12381G1;

/** One share of a BLS key as a dealer or a DKG hands it to node `index`. */
export interface BlsShare {
  index: number;
  /** 32-byte big-endian scalar (a BLS secret key in its own right). */
  secret: Uint8Array;
  /** 48-byte compressed G1 public key of the share. */
  publicKey: Uint8Array;
}

export interface BlsSharing {
  groupPublicKey: Uint8Array;
  threshold: number;
  shares: BlsShare[];
  /** Feldman commitments (48-byte G1 points); the first equals the group public key. */
  commitments: Uint8Array[];
}

/**
 * A threshold scheme whose partial signatures combine without another round (BLS). Signing nodes
 * sign with their share scaled by the Lagrange coefficient of the signer set the requester named, so
 * combining is a plain aggregation; FROST (a nonce round first) gets its own interface beside this one
 * and shares `group.ts`, `shamir.ts` and `dkg.ts`.
 */
export interface PartialSignatureScheme {
  readonly name: string;
  /** The factor share `index` applies for this signer set (λ_index at 0), encoded as a scalar. */
  weight(signers: readonly number[], index: number): Uint8Array;
  /** Signs `message` with secret·weight (the partial a peer returns). */
  signWeighted(secret: Uint8Array, weight: Uint8Array, message: Uint8Array): Uint8Array;
  /** Combines the weighted partials of one signer set. */
  combine(partials: readonly Uint8Array[]): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Checks one weighted partial against the share's public key (used to find a bad peer). */
  verifyPartial(
    sharePublicKey: Uint8Array,
    signers: readonly number[],
    index: number,
    message: Uint8Array,
    partial: Uint8Array,
  ): boolean;
}

/** Splits a BLS secret key into N shares of threshold T (refuses T <= N/2 and N > 255). */
export function dealBlsKey(secret: Uint8Array, threshold: number, shares: number): BlsSharing {
  const s = g.decodeScalar(secret, "secret key");
  const sharing = splitSecret(g, s, threshold, shares);
  return {
    groupPublicKey: g.encodePoint(sharing.commitments[0]!),
    threshold,
    shares: sharing.shares.map((sh) => {
      const sk = blst.SecretKey.fromBytes(g.encodeScalar(sh.value));
      return { index: sh.index, secret: sk.toBytes(), publicKey: sk.toPublicKey().toBytes() };
    }),
    commitments: sharing.commitments.map((c) => g.encodePoint(c)),
  };
}

/** secret·weight mod r as a secret key encoding. */
export function weightSecret(secret: Uint8Array, weight: Uint8Array): Uint8Array {
  const Fr = g.Fr;
  return Fr.toBytes(Fr.mul(g.decodeScalar(secret, "share secret"), g.decodeScalar(weight, "weight")));
}

/** Lagrange weights per signer set, which depend on the indices only (few sets are ever used). */
const weightCache = new Map<string, Map<number, Uint8Array>>();
const WEIGHT_CACHE_MAX = 4096;

function weightsOf(signers: readonly number[]): Map<number, Uint8Array> {
  const key = signers.join(",");
  let w = weightCache.get(key);
  if (w === undefined) {
    const lambdas = lagrangeAtZero(g, signers);
    w = new Map(signers.map((i, k) => [i, g.encodeScalar(lambdas[k]!)]));
    if (weightCache.size >= WEIGHT_CACHE_MAX) weightCache.clear();
    weightCache.set(key, w);
  }
  return w;
}

export const blsThresholdScheme: PartialSignatureScheme = {
  name: "bls12-381",
  weight(signers, index) {
    assertIndexSet(signers, "signers");
    const w = weightsOf(signers).get(index);
    if (w === undefined)
      throw new ThresholdError(
        { code: ThresholdErrorCode.BadInput, field: "signers" },
        `share ${index} is not in the signer set`,
      );
    return w;
  },
  signWeighted(secret, weight, message) {
    return blst.SecretKey.fromBytes(weightSecret(secret, weight)).sign(message).toBytes();
  },
  combine(partials) {
    try {
      // group-checked: a partial outside the subgroup is refused before it is added
      return blst.aggregateSerializedSignatures([...partials], true).toBytes();
    } catch {
      throw new ThresholdError({ code: ThresholdErrorCode.BadInput, field: "partial" }, "a partial is not a G2 point");
    }
  },
  verify(publicKey, message, signature) {
    try {
      return blst.verify(
        message,
        blst.PublicKey.fromBytes(publicKey, true),
        blst.Signature.fromBytes(signature, true),
        false,
        false,
      );
    } catch {
      return false;
    }
  },
  verifyPartial(sharePublicKey, signers, index, message, partial) {
    const w = this.weight(signers, index);
    const pk = g.mulPublic(g.decodePoint(sharePublicKey, "share public key"), g.decodeScalar(w, "weight"));
    return this.verify(g.encodePoint(pk), message, partial);
  },
};
