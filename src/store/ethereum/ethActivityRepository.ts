import { toHex } from "../../util/hex.js";
import { bytes, bytesOrNull, num } from "../sqlValues.js";
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

/**
 * What our own signing log says about recent epochs: liveness is explained by these records, and
 * on-chain attestations and blocks are compared with them. Reads use the primary keys
 * (validator_id, target / slot), one statement per call.
 */
export const ethActivityRepository = {
  async attestations(tx: SqlTx, ids: readonly number[], fromTarget: bigint, toTarget: bigint): Promise<ActivityRow[]> {
    return signedBetween(tx, "eth_signed_attestations", "target_epoch", ids, fromTarget, toTarget);
  },

  async blocks(tx: SqlTx, ids: readonly number[], fromSlot: bigint, toSlot: bigint): Promise<ActivityRow[]> {
    return signedBetween(tx, "eth_signed_blocks", "slot", ids, fromSlot, toSlot);
  },

  /** Every enabled key of the signing log (the keys whose signing slashguard answers for). */
  async enabledKeys(tx: SqlTx): Promise<WatchedKeyRow[]> {
    const rows = await tx.all("SELECT id, pubkey, enabled FROM eth_validators ORDER BY id");
    return rows
      .filter((r) => r.enabled === true || r.enabled === 1n || r.enabled === 1)
      .map((r) => ({ validatorId: num(r.id), pubkey: toHex(bytes(r.pubkey)) }));
  },
};

/** The records of `ids` in one signing table with `col` (its u64 position) between from and to, inclusive. */
async function signedBetween(
  tx: SqlTx,
  table: "eth_signed_attestations" | "eth_signed_blocks",
  col: "target_epoch" | "slot",
  ids: readonly number[],
  from: bigint,
  to: bigint,
): Promise<ActivityRow[]> {
  if (ids.length === 0) return [];
  const f = idsIn(tx, "validator_id", ids, 1);
  const rows = await tx.all(
    `SELECT validator_id, ${col} AS at, signing_root FROM ${table} WHERE ${f.sql} AND ${col} >= $2 AND ${col} <= $3`,
    [f.param, tx.u64(from), tx.u64(to)],
  );
  return rows.map((r) => ({
    validatorId: num(r.validator_id),
    at: tx.fromU64(r.at),
    signingRoot: bytesOrNull(r.signing_root),
  }));
}
