import { describe, expect, it } from "vitest";
import { ThresholdErrorCode } from "../../../../src/keys/threshold/errors.js";
import { bls12381G1 as g } from "../../../../src/keys/threshold/group.js";
import {
  assertThresholdParams,
  commitmentAt,
  interpolateAtZero,
  lagrangeAtZero,
  splitSecret,
  verifyShare,
} from "../../../../src/keys/threshold/shamir.js";
import { subsets } from "../../../utils/subsets.js";

const R = g.Fr.ORDER;

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe("threshold parameters", () => {
  it("refuses T <= N/2 and N > 255 with typed errors, accepts T > N/2", () => {
    expect(codeOf(() => assertThresholdParams(1, 2))).toBe(ThresholdErrorCode.ThresholdTooLow);
    expect(codeOf(() => assertThresholdParams(2, 4))).toBe(ThresholdErrorCode.ThresholdTooLow);
    expect(codeOf(() => assertThresholdParams(4, 3))).toBe(ThresholdErrorCode.ThresholdTooLow);
    expect(codeOf(() => assertThresholdParams(200, 256))).toBe(ThresholdErrorCode.TooManyShares);
    expect(codeOf(() => assertThresholdParams(1, 0))).toBe(ThresholdErrorCode.TooManyShares);
    for (const [t, n] of [
      [1, 1],
      [2, 3],
      [3, 4],
      [3, 5],
      [128, 255],
    ] as const)
      expect(codeOf(() => assertThresholdParams(t, n))).toBeUndefined();
    expect(codeOf(() => splitSecret(g, 7n, 2, 4))).toBe(ThresholdErrorCode.ThresholdTooLow);
  });
});

describe("Shamir sharing over the BLS12-381 scalar field", () => {
  for (const [t, n] of [
    [2, 3],
    [3, 4],
    [3, 5],
    [4, 5],
    [4, 6],
  ] as const) {
    it(`${t}-of-${n}: every subset of T or more recovers the secret, every T-1 subset does not`, () => {
      const secret = g.randomScalar();
      const { shares } = splitSecret(g, secret, t, n);
      expect(shares.map((s) => s.index)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      for (let k = t; k <= n; k++) {
        for (const set of subsets(n, k)) {
          expect(
            interpolateAtZero(
              g,
              set.map((i) => shares[i - 1]!),
            ),
          ).toBe(secret);
        }
      }
      for (const set of subsets(n, t - 1)) {
        if (set.length === 0) continue;
        expect(
          interpolateAtZero(
            g,
            set.map((i) => shares[i - 1]!),
          ),
        ).not.toBe(secret);
      }
    });
  }

  it("Feldman commitments accept every true share and catch a wrong value, index or commitment", () => {
    const { shares, commitments } = splitSecret(g, g.randomScalar(), 3, 5);
    for (const s of shares) expect(verifyShare(g, s, commitments)).toBe(true);
    const s2 = shares[1]!;
    expect(verifyShare(g, { index: 2, value: g.Fr.add(s2.value, 1n) }, commitments)).toBe(false);
    expect(verifyShare(g, { index: 3, value: s2.value }, commitments)).toBe(false);
    expect(verifyShare(g, { index: 2, value: 0n }, commitments)).toBe(false);
    const other = splitSecret(g, g.randomScalar(), 3, 5).commitments;
    expect(verifyShare(g, s2, [commitments[0]!, other[1]!, commitments[2]!])).toBe(false);
    // the group key is the first commitment, and each share's public key is the commitments at its index
    expect(g.equals(commitmentAt(g, commitments, 4), g.baseMul(shares[3]!.value))).toBe(true);
  });
});

/** Independent modular arithmetic for the vectors (plain bigint, not the library under test). */
function modInv(a: bigint): bigint {
  let [oldR, r] = [((a % R) + R) % R, R];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % R) + R) % R;
}

describe("interpolation vectors", () => {
  it("Lagrange coefficients at zero for small sets", () => {
    expect(lagrangeAtZero(g, [1, 2])).toEqual([2n, R - 1n]);
    expect(lagrangeAtZero(g, [1, 2, 3])).toEqual([3n, R - 3n, 1n]);
    expect(lagrangeAtZero(g, [2, 3])).toEqual([3n, R - 2n]);
    // {1, 3}: λ1 = 3/(3-1) = 3/2, λ3 = 1/(1-3) = -1/2
    expect(lagrangeAtZero(g, [1, 3])).toEqual([(3n * modInv(2n)) % R, R - modInv(2n)]);
    expect(lagrangeAtZero(g, [255, 1])).toEqual([R - modInv(254n), (255n * modInv(254n)) % R]);
  });

  it("f(x) = 5 + 3x + 2x^2 from any three of its values, and from values near the field order", () => {
    const f = (x: bigint): bigint => (5n + 3n * x + 2n * x * x) % R;
    expect(
      interpolateAtZero(
        g,
        [1n, 2n, 3n].map((x) => ({ index: Number(x), value: f(x) })),
      ),
    ).toBe(5n);
    expect(
      interpolateAtZero(
        g,
        [7n, 200n, 255n].map((x) => ({ index: Number(x), value: f(x) })),
      ),
    ).toBe(5n);
    // a0 = r-1, a1 = r-2: values wrap around the modulus
    const h = (x: bigint): bigint => (((R - 1n + (R - 2n) * x) % R) + R) % R;
    expect(
      interpolateAtZero(
        g,
        [4, 9].map((x) => ({ index: x, value: h(BigInt(x)) })),
      ),
    ).toBe(R - 1n);
  });

  it("refuses repeated or out-of-range indices", () => {
    expect(codeOf(() => lagrangeAtZero(g, [1, 1]))).toBe(ThresholdErrorCode.BadInput);
    expect(codeOf(() => lagrangeAtZero(g, [0, 2]))).toBe(ThresholdErrorCode.BadInput);
    expect(codeOf(() => lagrangeAtZero(g, [1, 256]))).toBe(ThresholdErrorCode.BadInput);
  });
});
