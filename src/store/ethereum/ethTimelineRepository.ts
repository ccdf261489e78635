import { minBig, U64_MAX } from "../../util/u64.js";
import type { SqlTx } from "../types.js";

/** Signing records of one validator in one epoch (attestations by target epoch, blocks by slot's epoch). */
export interface EpochActivity {
  epoch: bigint;
  attestations: number;
  blocks: number;
}

/** Read-only counts of the signing records, for the dashboard's key timeline. */
export const ethTimelineRepository = {
  async validatorId(tx: SqlTx, pubkey: Uint8Array): Promise<number | null> {
    const [r] = await tx.all("SELECT id FROM eth_validators WHERE pubkey = $1", [pubkey]);
    return r === undefined ? null : Number(r.id);
  },

  /** The highest epoch holding a record of the validator, or null when it has none. */
  async latestEpoch(tx: SqlTx, id: number, slotsPerEpoch: bigint): Promise<bigint | null> {
    const [a] = await tx.all("SELECT max(target_epoch) AS m FROM eth_signed_attestations WHERE validator_id = $1", [
      id,
    ]);
    const [b] = await tx.all("SELECT max(slot) AS m FROM eth_signed_blocks WHERE validator_id = $1", [id]);
    const target = tx.fromU64Nullable(a?.m ?? null);
    const slot = tx.fromU64Nullable(b?.m ?? null);
    const fromSlot = slot === null ? null : slot / slotsPerEpoch;
    if (target === null) return fromSlot;
    return fromSlot === null || target > fromSlot ? target : fromSlot;
  },

  /** Records per epoch in [from, to], ascending; epochs without a record are left out. */
  async perEpoch(tx: SqlTx, id: number, from: bigint, to: bigint, slotsPerEpoch: bigint): Promise<EpochActivity[]> {
    const out = new Map<bigint, EpochActivity>();
    const at = (epoch: bigint): EpochActivity => {
      let e = out.get(epoch);
      if (e === undefined) {
        e = { epoch, attestations: 0, blocks: 0 };
        out.set(epoch, e);
      }
      return e;
    };
    const atts = await tx.all(
      `SELECT target_epoch AS e, count(*) AS n FROM eth_signed_attestations
       WHERE validator_id = $1 AND target_epoch >= $2 AND target_epoch <= $3 GROUP BY target_epoch`,
      [id, tx.u64(from), tx.u64(to)],
    );
    for (const r of atts) at(tx.fromU64(r.e)).attestations = Number(r.n);
    const firstSlot = minBig(from * slotsPerEpoch, U64_MAX);
    const lastSlot = minBig((to + 1n) * slotsPerEpoch - 1n, U64_MAX);
    const blocks = await tx.all(
      "SELECT slot FROM eth_signed_blocks WHERE validator_id = $1 AND slot >= $2 AND slot <= $3",
      [id, tx.u64(firstSlot), tx.u64(lastSlot)],
    );
    for (const r of blocks) at(tx.fromU64(r.slot) / slotsPerEpoch).blocks++;
    return [...out.values()].sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0));
  },
};
