import { randomBytes } from "node:crypto";
import blst from "@chainsafe/blst";
import { describe, expect, it } from "vitest";
import { dealBlsKey, blsThresholdScheme as scheme } from "../../../../src/keys/threshold/blsThreshold.js";
import { ThresholdErrorCode } from "../../../../src/keys/threshold/errors.js";
import { subsets } from "../../../utils/subsets.js";

describe("BLS threshold signatures", () => {
  for (const [t, n] of [
    [2, 3],
    [3, 5],
    [4, 5],
  ] as const) {
    it(`${t}-of-${n}: every signer set of T combines to the group key's own signature`, () => {
      const sk = blst.SecretKey.fromKeygen(randomBytes(32));
      const d = dealBlsKey(sk.toBytes(), t, n);
      expect(Buffer.from(d.groupPublicKey).equals(sk.toPublicKey().toBytes())).toBe(true);
      expect(Buffer.from(d.commitments[0]!).equals(d.groupPublicKey)).toBe(true);
      const root = randomBytes(32);
      const expected = sk.sign(root).toBytes();
      for (const set of subsets(n, t)) {
        const partials = set.map((i) => scheme.signWeighted(d.shares[i - 1]!.secret, scheme.weight(set, i), root));
        for (const [k, i] of set.entries())
          expect(scheme.verifyPartial(d.shares[i - 1]!.publicKey, set, i, root, partials[k]!)).toBe(true);
        const sig = scheme.combine(partials);
        expect(Buffer.from(sig).equals(expected)).toBe(true);
        expect(scheme.verify(d.groupPublicKey, root, sig)).toBe(true);
      }
    });
  }

  it("a corrupted partial fails its own check and the combined check; T-1 partials do not combine", () => {
    const sk = blst.SecretKey.fromKeygen(randomBytes(32));
    const d = dealBlsKey(sk.toBytes(), 2, 3);
    const root = randomBytes(32);
    const set = [1, 3];
    const good = scheme.signWeighted(d.shares[0]!.secret, scheme.weight(set, 1), root);
    // a valid signature, but by share 3 over another message: a well-formed wrong partial
    const wrong = scheme.signWeighted(d.shares[2]!.secret, scheme.weight(set, 3), randomBytes(32));
    expect(scheme.verifyPartial(d.shares[2]!.publicKey, set, 3, root, wrong)).toBe(false);
    expect(scheme.verify(d.groupPublicKey, root, scheme.combine([good, wrong]))).toBe(false);
    // an unweighted partial (a peer that ignores the signer set) is caught too
    const plain = blst.SecretKey.fromBytes(d.shares[2]!.secret).sign(root).toBytes();
    expect(scheme.verify(d.groupPublicKey, root, scheme.combine([good, plain]))).toBe(false);
    expect(scheme.verify(d.groupPublicKey, root, scheme.combine([good]))).toBe(false);
    // garbage is not a G2 point
    let code: string | undefined;
    try {
      scheme.combine([good, new Uint8Array(96).fill(7)]);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe(ThresholdErrorCode.BadInput);
  });

  it("refuses a signer set that does not name the share", () => {
    let code: string | undefined;
    try {
      scheme.weight([1, 2], 3);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe(ThresholdErrorCode.BadInput);
  });
});
