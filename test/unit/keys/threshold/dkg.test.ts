import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { blsThresholdScheme as scheme } from "../../../../src/keys/threshold/blsThreshold.js";
import {
  DkgDealer,
  type DkgDealing,
  type DkgParams,
  finishDkg,
  transcriptHash,
  verifyDealing,
} from "../../../../src/keys/threshold/dkg.js";
import { ThresholdErrorCode } from "../../../../src/keys/threshold/errors.js";
import { bls12381G1 as g } from "../../../../src/keys/threshold/group.js";

function params(index: number): DkgParams {
  return { index, threshold: 2, participants: 3, keys: 2 };
}

describe("Joint-Feldman DKG (pure steps)", () => {
  it("three participants agree on group keys whose shares sign for them", () => {
    const dealers = [1, 2, 3].map((i) => new DkgDealer(g, params(i)));
    const results = [1, 2, 3].map((j) => {
      const dealings: DkgDealing[] = dealers.map((d) => d.dealingFor(j));
      for (const d of dealings) verifyDealing(g, params(j), dealers[d.from - 1]!.commitHash, d);
      return { results: finishDkg(g, params(j), dealings), transcript: transcriptHash(dealings) };
    });
    for (const r of results) expect(Buffer.from(r.transcript).equals(results[0]!.transcript)).toBe(true);
    for (let k = 0; k < 2; k++) {
      const gpk = results[0]!.results[k]!.groupPublicKey;
      for (const r of results) expect(Buffer.from(r.results[k]!.groupPublicKey).equals(gpk)).toBe(true);
      const root = randomBytes(32);
      const set = [2, 3];
      const partials = set.map((i) =>
        scheme.signWeighted(results[i - 1]!.results[k]!.secret, scheme.weight(set, i), root),
      );
      expect(scheme.verify(gpk, root, scheme.combine(partials))).toBe(true);
    }
  });

  it("a bad share is a complaint naming its dealer; so are commitments changed after the commit step", () => {
    const d1 = new DkgDealer(g, params(1));
    const d2 = new DkgDealer(g, params(2));
    const forMe = d2.dealingFor(1);
    const tampered: DkgDealing = { ...forMe, shares: [g.encodeScalar(g.randomScalar()), forMe.shares[1]!] };
    let err: { code?: string; type?: { peer?: number } } = {};
    try {
      verifyDealing(g, params(1), d2.commitHash, tampered);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe(ThresholdErrorCode.DkgComplaint);
    expect(err.type?.peer).toBe(2);
    // swapped commitments: the hash sent in step 1 no longer matches
    err = {};
    try {
      verifyDealing(g, params(1), d2.commitHash, { ...forMe, commitments: d1.dealingFor(1).commitments });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe(ThresholdErrorCode.DkgComplaint);
    expect(err.type?.peer).toBe(2);
  });
});
