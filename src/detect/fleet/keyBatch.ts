import type { KeyGroup } from "../types.js";
import { STALE_FACTOR } from "./fleetRules.js";

const ACTIVE = 1;
const STALE = 2;

/**
 * Key groups in columns of typed arrays, for the worker path of a full pass only: a batch moves to a
 * worker thread and back by transfer, with no per-object cloning. Group g owns observations
 * offsets[g] .. offsets[g+1]-1. Certainties stay 64-bit so the result equals the plain rules'.
 */
export interface KeyBatch {
  offsets: Int32Array;
  flags: Uint8Array;
  certainty: Float64Array;
  /** Interned shared-signer id per observation, -1 for none. */
  signer: Int32Array;
  /** NaN for null. */
  activeSince: Float64Array;
  inactiveSince: Float64Array;
  firstSeen: Float64Array;
}

export interface BatchResult {
  /** 1 where the key signs on two or more independent hosts. */
  double: Uint8Array;
  confidence: Float64Array;
  /** key_moved: local observation indexes (in the group), -1 when there is no move. */
  moveFrom: Int32Array;
  moveTo: Int32Array;
}

export function encodeBatch(groups: readonly KeyGroup[]): KeyBatch {
  const n = groups.reduce((s, g) => s + g.obs.length, 0);
  const b: KeyBatch = {
    offsets: new Int32Array(groups.length + 1),
    flags: new Uint8Array(n),
    certainty: new Float64Array(n),
    signer: new Int32Array(n),
    activeSince: new Float64Array(n),
    inactiveSince: new Float64Array(n),
    firstSeen: new Float64Array(n),
  };
  const signers = new Map<string, number>();
  let i = 0;
  groups.forEach((g, gi) => {
    b.offsets[gi] = i;
    for (const o of g.obs) {
      b.flags[i] = (o.active ? ACTIVE : 0) | (o.stale ? STALE : 0);
      b.certainty[i] = o.certainty;
      let s = -1;
      if (o.signerId !== null) {
        s = signers.get(o.signerId) ?? signers.size;
        signers.set(o.signerId, s);
      }
      b.signer[i] = s;
      b.activeSince[i] = o.activeSince ?? Number.NaN;
      b.inactiveSince[i] = o.inactiveSince ?? Number.NaN;
      b.firstSeen[i] = o.firstSeenAt;
      i++;
    }
  });
  b.offsets[groups.length] = i;
  return b;
}

export function batchBuffers(b: KeyBatch | BatchResult): ArrayBuffer[] {
  return Object.values(b).map((a: ArrayBufferView) => a.buffer as ArrayBuffer);
}

/**
 * `doubleActive` and `keyMoved` of fleetRules.ts over a batch, as loops over the columns (pure; runs on
 * worker threads). The unit test holds it equal to the plain functions over random fleets.
 */
export function evaluateBatch(b: KeyBatch, now: number, keyMovedWindowMs: number): BatchResult {
  const groups = b.offsets.length - 1;
  const r: BatchResult = {
    double: new Uint8Array(groups),
    confidence: new Float64Array(groups),
    moveFrom: new Int32Array(groups).fill(-1),
    moveTo: new Int32Array(groups).fill(-1),
  };
  for (let g = 0; g < groups; g++) {
    const s = b.offsets[g]!;
    const e = b.offsets[g + 1]!;
    let active = 0;
    let best = 0;
    let second = 0;
    let signer = -2;
    let shared = true;
    let last = -1;
    for (let i = s; i < e; i++) {
      const f = b.flags[i]!;
      if ((f & ACTIVE) === 0) continue;
      active++;
      last = i;
      const c = b.certainty[i]! * ((f & STALE) !== 0 ? STALE_FACTOR : 1);
      if (c > best) {
        second = best;
        best = c;
      } else if (c > second) second = c;
      const sg = b.signer[i]!;
      if (sg < 0) shared = false;
      else if (signer === -2) signer = sg;
      else if (signer !== sg) shared = false;
    }
    if (active >= 2 && !shared) {
      r.double[g] = 1;
      r.confidence[g] = second;
      continue;
    }
    if (active !== 1) continue;
    const since = b.activeSince[last]!;
    if (Number.isNaN(since) || now - since >= keyMovedWindowMs) continue;
    let from = -1;
    let fromAt = Number.NEGATIVE_INFINITY;
    for (let i = s; i < e; i++) {
      const left = b.inactiveSince[i]!;
      if (i === last || Number.isNaN(left) || (b.flags[i]! & ACTIVE) !== 0) continue;
      if (Math.abs(since - left) <= keyMovedWindowMs && b.firstSeen[i]! < since && left > fromAt) {
        from = i;
        fromAt = left;
      }
    }
    if (from >= 0) {
      r.moveFrom[g] = from - s;
      r.moveTo[g] = last - s;
      r.confidence[g] = b.certainty[last]!;
    }
  }
  return r;
}
