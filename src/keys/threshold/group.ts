import { randomBytes } from "node:crypto";
import blst from "@chainsafe/blst";
import type { IField } from "@noble/curves/abstract/modular.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { ThresholdError, ThresholdErrorCode } from "./errors.js";

/**
 * The prime-order group a secret is shared in: scalars in `Fr`, public points (commitments, public
 * keys) in the group. Shamir, Feldman and the DKG are written against this interface only, so a second
 * scheme (FROST over Ed25519 for CometBFT and GRANDPA) brings its own group and reuses them unchanged.
 */
export interface PrimeGroup<P> {
  readonly name: string;
  /** The scalar field (from @noble/curves: no hand-written field arithmetic). */
  readonly Fr: IField<bigint>;
  readonly scalarBytes: number;
  readonly pointBytes: number;
  /** A scalar in (0, order) from its canonical encoding; anything else is ERR_THRESHOLD_BAD_INPUT. */
  decodeScalar(bytes: Uint8Array, field: string): bigint;
  encodeScalar(s: bigint): Uint8Array;
  /** A validated point (on the curve, in the prime-order subgroup, not the identity). */
  decodePoint(bytes: Uint8Array, field: string): P;
  encodePoint(p: P): Uint8Array;
  /** s·G for a secret scalar (constant time). */
  baseMul(s: bigint): P;
  /** s·P for public data only (variable time). */
  mulPublic(p: P, s: bigint): P;
  add(a: P, b: P): P;
  equals(a: P, b: P): boolean;
  /** A uniformly random non-zero scalar. */
  randomScalar(): bigint;
}

const G1 = bls12_381.G1.Point;
export type G1Point = ReturnType<typeof G1.fromAffine>;
const Fp = bls12_381.fields.Fp;
const Fr = bls12_381.fields.Fr;

function bytesToBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}`);
}

function bad(field: string, what: string): ThresholdError {
  return new ThresholdError({ code: ThresholdErrorCode.BadInput, field }, `${field}: ${what}`);
}

/** An uncompressed point blst has validated, as a noble point (no second validation: blst's is the check). */
function fromBlstUncompressed(u: Uint8Array): G1Point {
  return G1.fromAffine({ x: Fp.create(bytesToBigint(u.subarray(0, 48))), y: Fp.create(bytesToBigint(u.subarray(48))) });
}

/**
 * BLS12-381 G1, where Ethereum public keys live. Scalars are big-endian 32 bytes (the EIP-2333 /
 * blst secret-key encoding), points compressed 48 bytes (the public-key encoding). Decoding,
 * validation and fixed-base multiplication use @chainsafe/blst (fast, constant time); the group law
 * for public data uses @noble/curves.
 */
export const bls12381G1: PrimeGroup<G1Point> = {
  name: "bls12-381-g1",
  Fr,
  scalarBytes: 32,
  pointBytes: 48,
  decodeScalar(bytes, field) {
    if (bytes.length !== 32) throw bad(field, "a scalar is 32 bytes");
    const s = bytesToBigint(bytes);
    if (s === 0n || s >= Fr.ORDER) throw bad(field, "scalar out of range");
    return s;
  },
  encodeScalar(s) {
    return Fr.toBytes(Fr.create(s));
  },
  decodePoint(bytes, field) {
    if (bytes.length !== 48) throw bad(field, "a G1 point is 48 bytes (compressed)");
    let u: Uint8Array;
    try {
      u = blst.PublicKey.fromBytes(bytes, true).toBytes(false);
    } catch {
      throw bad(field, "not a valid G1 point");
    }
    return fromBlstUncompressed(u);
  },
  encodePoint(p) {
    return p.toBytes(true);
  },
  baseMul(s) {
    const v = Fr.create(s);
    if (v === 0n) return G1.ZERO;
    return fromBlstUncompressed(blst.SecretKey.fromBytes(Fr.toBytes(v)).toPublicKey().toBytes(false));
  },
  mulPublic(p, s) {
    const v = Fr.create(s);
    return v === 0n ? G1.ZERO : p.multiplyUnsafe(v);
  },
  add: (a, b) => a.add(b),
  equals: (a, b) => a.equals(b),
  randomScalar() {
    for (;;) {
      // 48 bytes reduced mod r: the bias is below 2^-128
      const s = Fr.create(bytesToBigint(randomBytes(48)));
      if (s !== 0n) return s;
    }
  },
};
