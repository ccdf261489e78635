import { type ChainTime, epochOfSlot, firstSlot, lastSlot } from "../chains/ethereum/index.js";
import type { SqlTx } from "../store/index.js";
import { ethActivityRepository } from "../store/index.js";

/** Our signing records of some keys over a range of epochs, indexed for the rules. */
export class OwnActivity {
  /** validator id -> target epoch -> signing roots recorded at that target. */
  readonly attestations = new Map<number, Map<bigint, (Uint8Array | null)[]>>();
  /** validator id -> slot -> signing root. */
  readonly blocks = new Map<number, Map<bigint, Uint8Array | null>>();

  constructor(private readonly t: ChainTime) {}

  /**
   * Reads attestations with targets in [from - 1, to] and blocks in the slots of [from, to]: what can
   * make a key live in those epochs (an attestation counts in its own epoch and, included late, in the next).
   */
  static async load(tx: SqlTx, t: ChainTime, ids: readonly number[], from: bigint, to: bigint): Promise<OwnActivity> {
    const a = new OwnActivity(t);
    const lo = from > 0n ? from - 1n : 0n;
    for (const r of await ethActivityRepository.attestations(tx, ids, lo, to)) {
      const byTarget = getOrSet(a.attestations, r.validatorId, () => new Map<bigint, (Uint8Array | null)[]>());
      getOrSet(byTarget, r.at, () => []).push(r.signingRoot);
    }
    for (const r of await ethActivityRepository.blocks(tx, ids, firstSlot(t, from), lastSlot(t, to))) {
      getOrSet(a.blocks, r.validatorId, () => new Map<bigint, Uint8Array | null>()).set(r.at, r.signingRoot);
    }
    return a;
  }

  attested(id: number, target: bigint): boolean {
    return this.attestations.get(id)?.has(target) === true;
  }

  proposedIn(id: number, epoch: bigint): boolean {
    const m = this.blocks.get(id);
    if (m === undefined) return false;
    for (const slot of m.keys()) if (epochOfSlot(this.t, slot) === epoch) return true;
    return false;
  }

  /**
   * Whether our own records explain a key being live in `epoch`: every message of ours is recorded
   * before it leaves (record before release), and a beacon node may count an attestation in the epoch
   * of the block that included it, one epoch late.
   */
  explains(id: number, epoch: bigint): boolean {
    return this.attested(id, epoch) || (epoch > 0n && this.attested(id, epoch - 1n)) || this.proposedIn(id, epoch);
  }
}

function getOrSet<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}
