import { ThresholdError, ThresholdErrorCode } from "./errors.js";
import type { PrimeGroup } from "./group.js";

/** Share indices travel as one byte (cluster file, wire), and 0 is the secret itself. */
export const MAX_SHARES = 255;

/** One point of the sharing polynomial: share `index` (1..N) holds f(index). */
export interface Share {
  index: number;
  value: bigint;
}

export interface Sharing<P> {
  shares: Share[];
  /** Feldman commitments a_k·G for k = 0..T-1; the first is the group public key. */
  commitments: P[];
}

/**
 * Refuses parameters that lose the safety argument or do not fit: T > N/2 makes two conflicting
 * messages need a common signer (each signs at most one), and N <= 255 keeps indices in one byte.
 */
export function assertThresholdParams(threshold: number, shares: number): void {
  if (!Number.isSafeInteger(shares) || shares < 1 || shares > MAX_SHARES) {
    throw new ThresholdError(
      { code: ThresholdErrorCode.TooManyShares, shares, max: MAX_SHARES },
      `shares must be 1..${MAX_SHARES}, got ${shares}`,
    );
  }
  if (!Number.isSafeInteger(threshold) || threshold > shares || 2 * threshold <= shares) {
    throw new ThresholdError(
      { code: ThresholdErrorCode.ThresholdTooLow, threshold, shares },
      `threshold must be above half the shares and at most ${shares} (T > N/2), got ${threshold} of ${shares}`,
    );
  }
}

/** f(x) for coefficients a_0..a_{T-1} (Horner). */
function evalPolynomial<P>(g: PrimeGroup<P>, coefficients: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = g.Fr.add(g.Fr.mul(acc, x), coefficients[k]!);
  return acc;
}

/** Shares of f with f(0) = secret and T-1 random coefficients, with Feldman commitments. */
export function splitSecret<P>(g: PrimeGroup<P>, secret: bigint, threshold: number, shares: number): Sharing<P> {
  assertThresholdParams(threshold, shares);
  if (g.Fr.create(secret) === 0n)
    throw new ThresholdError({ code: ThresholdErrorCode.BadInput, field: "secret" }, "secret is zero");
  for (;;) {
    const coefficients = [g.Fr.create(secret)];
    for (let k = 1; k < threshold; k++) coefficients.push(g.randomScalar());
    const out = sharePolynomial(g, coefficients, shares);
    // a zero share is not a key (probability 2^-255 per share): draw the polynomial again
    if (out.shares.every((s) => s.value !== 0n)) return out;
  }
}

/** Evaluates a polynomial at 1..N and commits to its coefficients (a DKG dealer does this too). */
export function sharePolynomial<P>(g: PrimeGroup<P>, coefficients: readonly bigint[], shares: number): Sharing<P> {
  return {
    shares: Array.from({ length: shares }, (_, i) => ({
      index: i + 1,
      value: evalPolynomial(g, coefficients, BigInt(i + 1)),
    })),
    commitments: coefficients.map((a) => g.baseMul(a)),
  };
}

/** Σ_k C_k·index^k: the public key of share `index` as the commitments define it (Horner, public data). */
export function commitmentAt<P extends object>(g: PrimeGroup<P>, commitments: readonly P[], index: number): P {
  if (commitments.length === 0)
    throw new ThresholdError({ code: ThresholdErrorCode.BadInput, field: "commitments" }, "no commitments");
  const x = BigInt(index);
  let acc = commitments[commitments.length - 1]!;
  for (let k = commitments.length - 2; k >= 0; k--) acc = g.add(g.mulPublic(acc, x), commitments[k]!);
  return acc;
}

/** Feldman check: share·G equals the commitments evaluated at the share's index. */
export function verifyShare<P extends object>(g: PrimeGroup<P>, share: Share, commitments: readonly P[]): boolean {
  if (share.index < 1 || share.index > MAX_SHARES || g.Fr.create(share.value) === 0n) return false;
  return g.equals(g.baseMul(share.value), commitmentAt(g, commitments, share.index));
}

/** Checks an index set: distinct integers in 1..255. */
export function assertIndexSet(indices: readonly number[], field = "indices"): void {
  const seen = new Set<number>();
  for (const i of indices) {
    if (!Number.isSafeInteger(i) || i < 1 || i > MAX_SHARES || seen.has(i)) {
      throw new ThresholdError(
        { code: ThresholdErrorCode.BadInput, field },
        `${field}: share indices must be distinct integers in 1..${MAX_SHARES}`,
      );
    }
    seen.add(i);
  }
}

/** Lagrange coefficients at x = 0 for the given share indices: λ_i = Π_{j≠i} j / (j − i). */
export function lagrangeAtZero<P>(g: PrimeGroup<P>, indices: readonly number[]): bigint[] {
  assertIndexSet(indices);
  const Fr = g.Fr;
  return indices.map((i) => {
    let num = Fr.ONE;
    let den = Fr.ONE;
    for (const j of indices) {
      if (j === i) continue;
      num = Fr.mul(num, BigInt(j));
      den = Fr.mul(den, Fr.sub(BigInt(j), BigInt(i)));
    }
    return Fr.div(num, den);
  });
}

/** f(0) from T (or more) shares of a polynomial of degree < T. */
export function interpolateAtZero<P>(g: PrimeGroup<P>, shares: readonly Share[]): bigint {
  const lambdas = lagrangeAtZero(
    g,
    shares.map((s) => s.index),
  );
  return shares.reduce((acc, s, k) => g.Fr.add(acc, g.Fr.mul(lambdas[k]!, s.value)), 0n);
}
