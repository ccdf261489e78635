/**
 * The foreign-signer rule over keys in columns of typed arrays (a batch moves to a worker thread and
 * back by transfer). The window is the last two epochs, E-1 and E, checked at three quarters of the
 * last slot of E, when our own attestations of E are signed and recorded.
 */
export interface ForeignBatch {
  /** Per key two entries, E-1 then E: 0 silent, 1 live, 2 no answer (a failed or partial query). */
  live: Uint8Array;
  /** Our attestations by target: bit 0 = E-2, bit 1 = E-1, bit 2 = E. */
  attested: Uint8Array;
  /** Our blocks: bit 0 = in E-1, bit 1 = in E. */
  proposed: Uint8Array;
  /** 1 when the chain holds an attestation or block by the key that we did not sign. */
  mismatch: Uint8Array;
  /** Fleet hosts reporting the key active outside its expected set (signing hosts we do not know). */
  unrecognized: Uint16Array;
  /** 1 when a host of the key's expected set is in a maintenance window (its misses are expected). */
  maintenance: Uint8Array;
}

export interface ForeignResult {
  /** FLAG_* bits. */
  flags: Uint8Array;
  confidence: Float32Array;
  /** Epochs of the window without an attestation of ours, over the window (0, 0.5, 1). */
  missRate: Float32Array;
}

export const LIVE_SILENT = 0;
export const LIVE_YES = 1;
export const LIVE_UNKNOWN = 2;

export const FLAG_LIVE_PREV = 1;
export const FLAG_LIVE_CUR = 2;
export const FLAG_MISMATCH = 4;

/** Weights of the confidence score (DESIGN.md, issue 5): unrecognized sources, then the expected node's misses. */
const SOURCE_WEIGHT = 0.6;
const MISS_WEIGHT = 0.4;

export function emptyBatch(n: number): ForeignBatch {
  return {
    live: new Uint8Array(2 * n).fill(LIVE_UNKNOWN),
    attested: new Uint8Array(n),
    proposed: new Uint8Array(n),
    mismatch: new Uint8Array(n),
    unrecognized: new Uint16Array(n),
    maintenance: new Uint8Array(n),
  };
}

export function batchLength(b: ForeignBatch): number {
  return b.attested.length;
}

export function foreignBuffers(b: ForeignBatch | ForeignResult): ArrayBuffer[] {
  return Object.values(b).map((a: ArrayBufferView) => a.buffer as ArrayBuffer);
}

/** Keys [from, to) of a batch, copied into a batch of their own (one worker task). */
export function sliceBatch(b: ForeignBatch, from: number, to: number): ForeignBatch {
  return {
    live: b.live.slice(2 * from, 2 * to),
    attested: b.attested.slice(from, to),
    proposed: b.proposed.slice(from, to),
    mismatch: b.mismatch.slice(from, to),
    unrecognized: b.unrecognized.slice(from, to),
    maintenance: b.maintenance.slice(from, to),
  };
}

/**
 * Per key:
 * - live in E-1 or E with nothing of ours to explain it (an attestation for that epoch, or for the
 *   epoch before it: a late inclusion counts one epoch later; or a block in it) -> foreign signer,
 *   confidence min(1, 0.6 x sources + 0.4 x miss rate), where sources are the chain's unknown signer
 *   plus every fleet host signing outside the key's expected set, and the miss rate is the share of
 *   the window's epochs without an attestation of ours (0 while the expected node is in maintenance);
 * - an on-chain attestation or block by the key that we did not sign -> confidence 1.
 */
export function evaluateForeign(b: ForeignBatch): ForeignResult {
  const n = batchLength(b);
  const r: ForeignResult = { flags: new Uint8Array(n), confidence: new Float32Array(n), missRate: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const att = b.attested[i]!;
    const prop = b.proposed[i]!;
    const oursPrev = (att & 0b011) !== 0 || (prop & 1) !== 0;
    const oursCur = (att & 0b110) !== 0 || (prop & 2) !== 0;
    let flags = 0;
    if (b.live[2 * i] === LIVE_YES && !oursPrev) flags |= FLAG_LIVE_PREV;
    if (b.live[2 * i + 1] === LIVE_YES && !oursCur) flags |= FLAG_LIVE_CUR;
    if (b.mismatch[i] === 1) flags |= FLAG_MISMATCH;
    const miss = (((att & 0b010) === 0 ? 1 : 0) + ((att & 0b100) === 0 ? 1 : 0)) / 2;
    r.missRate[i] = miss;
    if (flags === 0) continue;
    r.flags[i] = flags;
    r.confidence[i] =
      (flags & FLAG_MISMATCH) !== 0
        ? 1
        : Math.min(1, SOURCE_WEIGHT * (1 + b.unrecognized[i]!) + MISS_WEIGHT * (b.maintenance[i] === 1 ? 0 : miss));
  }
  return r;
}
