import { toHex } from "../../util/hex.js";
import { num } from "../fleet/sqlValues.js";
import type { SqlTx } from "../types.js";
import { idsIn } from "./ethDoppelgangerRepository.js";

/** One signing record of ours: an attestation (at its target epoch) or a block (at its slot). */
export interface ActivityRow {
  validatorId: number;
  /** Target epoch (attestations) or slot (blocks). */
  at: bigint;
  signingRoot: Uint8Array | null;
}

export interface WatchedKeyRow {
  validatorId: number;
  /** Lower-case 0x-hex. */
  pubkey: string;
}

const root = (v: unknown): Uint8Array | null => (v === null || v === undefined ? null : new Uint8Array(v as Buffer));

/**
 * What our own signing log says about recent epochs: liveness is explained by these records, and
 * on-chain attestations and blocks are compared with them. Reads use the primary keys
 * (validator_id, target / slot), one statement per call.
 */
export const ethActivityRepository = {
  async attestations(tx: SqlTx, ids: readonly number[], fromTarget: bigint, toTarget: bigint): Promise<ActivityRow[]> {
    if (ids.length === 0) return [];
    const f = idsIn(tx, "validator_id", ids, 1);
    const rows = await tx.all(
      `SELECT validator_id, target_epoch, signing_root FROM eth_signed_attestations
       WHERE ${f.sql} AND target_epoch >= $2 AND target_epoch <= $3`,
      [f.param, tx.u64(fromTarget), tx.u64(toTarget)],
    );
    return rows.map((r) => ({
      validatorId: num(r.validator_id),
      at: tx.fromU64(r.target_epoch),
      signingRoot: root(r.signing_root),
    }));
  },

  async blocks(tx: SqlTx, ids: readonly number[], fromSlot: bigint, toSlot: bigint): Promise<ActivityRow[]> {
    if (ids.length === 0) return [];
    const f = idsIn(tx, "validator_id", ids, 1);
    const rows = await tx.all(
      `SELECT validator_id, slot, signing_root FROM eth_signed_blocks
       WHERE ${f.sql} AND slot >= $2 AND slot <= $3`,
      [f.param, tx.u64(fromSlot), tx.u64(toSlot)],
    );
    return rows.map((r) => ({
      validatorId: num(r.validator_id),
      at: tx.fromU64(r.slot),
      signingRoot: root(r.signing_root),
    }));
  },

  /** Every enabled key of the signing log (the keys whose signing slashguard answers for). */
  async enabledKeys(tx: SqlTx): Promise<WatchedKeyRow[]> {
    const rows = await tx.all("SELECT id, pubkey, enabled FROM eth_validators ORDER BY id");
    return rows
      .filter((r) => r.enabled === true || r.enabled === 1n || r.enabled === 1)
      .map((r) => ({ validatorId: num(r.id), pubkey: toHex(new Uint8Array(r.pubkey as Buffer)) }));
  },
};
