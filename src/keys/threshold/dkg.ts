import { createHash } from "node:crypto";
import { ThresholdError, ThresholdErrorCode } from "./errors.js";
import type { PrimeGroup } from "./group.js";
import { assertThresholdParams, commitmentAt, sharePolynomial, verifyShare } from "./shamir.js";

/**
 * Joint-Feldman distributed key generation, as pure steps (the transport moves the messages):
 *
 * 1. commit:  every participant i draws K random polynomials of degree T-1 and sends everyone the
 *             hash of its commitments (so nobody can choose its polynomial after seeing the others');
 * 2. deal:    i sends each j the commitments and f_i(j) for every key (over the authenticated,
 *             encrypted cluster channel); j checks the hash and the Feldman equation, and any failure
 *             aborts the run naming i (a complaint);
 * 3. confirm: everyone sends the hash of all commitments it accepted; a difference aborts, so no two
 *             nodes leave with different group keys.
 *
 * Share j is Σ_i f_i(j); the group key is Σ_i C_i0. The whole secret exists nowhere.
 */
export interface DkgParams {
  index: number;
  threshold: number;
  participants: number;
  keys: number;
}

export interface DkgDealing {
  from: number;
  /** commitments[key][k]: encoded points. */
  commitments: Uint8Array[][];
  /** The dealer's share for the recipient, per key (encoded scalars). */
  shares: Uint8Array[];
}

export interface DkgKeyResult {
  groupPublicKey: Uint8Array;
  commitments: Uint8Array[];
  /** This participant's share (encoded scalar) and every participant's share public key. */
  secret: Uint8Array;
  sharePublicKeys: Uint8Array[];
}

const DOMAIN = "slashguard-dkg-v1";

export function commitmentHash(from: number, commitments: readonly (readonly Uint8Array[])[]): Uint8Array {
  const h = createHash("sha256").update(DOMAIN).update(Uint8Array.of(from));
  for (const key of commitments) for (const c of key) h.update(c);
  return new Uint8Array(h.digest());
}

/** The hash every participant must agree on in step 3: all accepted commitments in index order. */
export function transcriptHash(dealings: readonly DkgDealing[]): Uint8Array {
  const h = createHash("sha256").update(`${DOMAIN}/transcript`);
  for (const d of [...dealings].sort((a, b) => a.from - b.from)) h.update(commitmentHash(d.from, d.commitments));
  return new Uint8Array(h.digest());
}

/** One participant's own polynomials; `dealingFor(j)` is what it sends j in step 2. */
export class DkgDealer<P> {
  private readonly perKey: { commitments: Uint8Array[]; shares: bigint[] }[];
  readonly commitHash: Uint8Array;

  constructor(
    private readonly g: PrimeGroup<P>,
    readonly params: DkgParams,
  ) {
    assertThresholdParams(params.threshold, params.participants);
    this.perKey = Array.from({ length: params.keys }, () => {
      for (;;) {
        const coefficients = Array.from({ length: params.threshold }, () => g.randomScalar());
        const s = sharePolynomial(g, coefficients, params.participants);
        if (s.shares.every((x) => x.value !== 0n))
          return { commitments: s.commitments.map((c) => g.encodePoint(c)), shares: s.shares.map((x) => x.value) };
      }
    });
    this.commitHash = commitmentHash(
      params.index,
      this.perKey.map((k) => k.commitments),
    );
  }

  dealingFor(recipient: number): DkgDealing {
    return {
      from: this.params.index,
      commitments: this.perKey.map((k) => k.commitments),
      shares: this.perKey.map((k) => this.g.encodeScalar(k.shares[recipient - 1]!)),
    };
  }
}

function complaint(peer: number, reason: string): ThresholdError {
  return new ThresholdError({ code: ThresholdErrorCode.DkgComplaint, peer, reason }, `DKG: node ${peer} ${reason}`);
}

/** Step 2 check of a dealing from `d.from` against the hash it committed to; throws a complaint naming it. */
export function verifyDealing<P extends object>(
  g: PrimeGroup<P>,
  params: DkgParams,
  committed: Uint8Array,
  d: DkgDealing,
): void {
  const hash = commitmentHash(d.from, d.commitments);
  if (Buffer.compare(hash, committed) !== 0)
    throw complaint(d.from, "sent commitments that differ from its commitment hash");
  if (d.commitments.length !== params.keys || d.shares.length !== params.keys)
    throw complaint(d.from, `sent ${d.commitments.length} key(s), expected ${params.keys}`);
  for (let k = 0; k < params.keys; k++) {
    const cs = d.commitments[k]!;
    if (cs.length !== params.threshold)
      throw complaint(d.from, `sent ${cs.length} commitments, expected ${params.threshold}`);
    let points: P[];
    let value: bigint;
    try {
      points = cs.map((c, i) => g.decodePoint(c, `commitment ${i}`));
      value = g.decodeScalar(d.shares[k]!, "share");
    } catch {
      throw complaint(d.from, `sent a malformed commitment or share for key ${k}`);
    }
    if (!verifyShare(g, { index: params.index, value }, points))
      throw complaint(d.from, `sent a share for key ${k} that fails the Feldman check`);
  }
}

/** Step 3 output from every participant's dealing to this node (its own included), all verified. */
export function finishDkg<P extends object>(
  g: PrimeGroup<P>,
  params: DkgParams,
  dealings: readonly DkgDealing[],
): DkgKeyResult[] {
  const from = new Set(dealings.map((d) => d.from));
  if (from.size !== params.participants || dealings.length !== params.participants)
    throw new ThresholdError(
      { code: ThresholdErrorCode.DkgFailed, reason: "missing dealings" },
      `DKG: ${from.size} of ${params.participants} dealings`,
    );
  return Array.from({ length: params.keys }, (_, k) => {
    let secret = 0n;
    const sum: P[] = [];
    for (const d of dealings) {
      secret = g.Fr.add(secret, g.decodeScalar(d.shares[k]!, "share"));
      d.commitments[k]!.forEach((c, i) => {
        const p = g.decodePoint(c, "commitment");
        sum[i] = sum[i] === undefined ? p : g.add(sum[i]!, p);
      });
    }
    if (!verifyShare(g, { index: params.index, value: secret }, sum))
      throw new ThresholdError(
        { code: ThresholdErrorCode.DkgFailed, reason: "combined share fails the Feldman check" },
        "DKG: the combined share does not match the combined commitments",
      );
    return {
      groupPublicKey: g.encodePoint(sum[0]!),
      commitments: sum.map((p) => g.encodePoint(p)),
      secret: g.encodeScalar(secret),
      sharePublicKeys: Array.from({ length: params.participants }, (_, j) =>
        g.encodePoint(commitmentAt(g, sum, j + 1)),
      ),
    };
  });
}
