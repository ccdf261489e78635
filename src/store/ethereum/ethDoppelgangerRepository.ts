import { toHex } from "../../util/hex.js";
import { num, textOrNull } from "../sqlValues.js";
import type { SqlTx, SqlValue } from "../types.js";

export interface DetectedKeyRow {
  validatorId: number;
  pubkey: string;
  epoch: bigint;
  at: number;
  /** Which job found it (signer instance or monitor). */
  by: string;
  detail: string;
}

export interface NewDetection {
  validatorId: number;
  epoch: bigint;
  at: number;
  by: string;
  detail: string;
}

export interface ClearedKeyRow {
  validatorId: number;
  pubkey: string;
  by: string;
  at: number;
}

/**
 * `validator_id IN (…)` for both dialects: a JSON array on SQLite (json_each), an int[] on PostgreSQL.
 * `$n` is the placeholder number the list takes.
 */
export function idsIn(tx: SqlTx, column: string, ids: readonly number[], n: number): { sql: string; param: SqlValue } {
  return tx.dialect === "postgres"
    ? { sql: `${column} = ANY($${n}::int[])`, param: [...ids] }
    : { sql: `${column} IN (SELECT value FROM json_each($${n}))`, param: JSON.stringify(ids) };
}

/** Doppelganger state shared by every signer and monitor on one database (see migration 0006). */
export const ethDoppelgangerRepository = {
  async detected(tx: SqlTx): Promise<DetectedKeyRow[]> {
    const rows = await tx.all(
      `SELECT d.validator_id, v.pubkey, d.detected_epoch, d.detected_at, d.detected_by, d.detail
       FROM eth_doppelganger d JOIN eth_validators v ON v.id = d.validator_id WHERE d.detected_at IS NOT NULL`,
    );
    return rows.map((r) => ({
      validatorId: num(r.validator_id),
      pubkey: toHex(new Uint8Array(r.pubkey as Buffer)),
      epoch: tx.fromU64(r.detected_epoch),
      at: num(r.detected_at),
      by: String(r.detected_by ?? ""),
      detail: String(r.detail ?? ""),
    }));
  },

  /** Keys whose detection an operator cleared at or after `since`. */
  async clearedSince(tx: SqlTx, since: number): Promise<ClearedKeyRow[]> {
    const rows = await tx.all(
      `SELECT d.validator_id, v.pubkey, d.cleared_by, d.cleared_at FROM eth_doppelganger d
       JOIN eth_validators v ON v.id = d.validator_id WHERE d.detected_at IS NULL AND d.cleared_at >= $1`,
      [since],
    );
    return rows.map((r) => ({
      validatorId: num(r.validator_id),
      pubkey: toHex(new Uint8Array(r.pubkey as Buffer)),
      by: textOrNull(r.cleared_by) ?? "",
      at: num(r.cleared_at),
    }));
  },

  /** Records detections; a key already detected keeps its first detection (the evidence that came first). */
  async markDetected(tx: SqlTx, rows: readonly NewDetection[]): Promise<void> {
    for (const d of rows) {
      await tx.run(
        `INSERT INTO eth_doppelganger (validator_id, detected_epoch, detected_at, detected_by, detail)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (validator_id) DO UPDATE SET detected_epoch = excluded.detected_epoch,
           detected_at = excluded.detected_at, detected_by = excluded.detected_by, detail = excluded.detail
         WHERE eth_doppelganger.detected_at IS NULL`,
        [d.validatorId, tx.u64(d.epoch), d.at, d.by, d.detail],
      );
    }
  },

  /** Clears a standing detection; false when there was none. */
  async clear(tx: SqlTx, validatorId: number, by: string, at: number): Promise<boolean> {
    const n = await tx.run(
      `UPDATE eth_doppelganger SET detected_epoch = NULL, detected_at = NULL, detected_by = NULL, detail = NULL,
         cleared_by = $2, cleared_at = $3, held_epoch = NULL
       WHERE validator_id = $1 AND detected_at IS NOT NULL`,
      [validatorId, by, at],
    );
    return n > 0;
  },

  /** A slashguard signer holds these keys verified in `epoch` (only ever moves forward). */
  async hold(tx: SqlTx, ids: readonly number[], epoch: bigint): Promise<void> {
    if (ids.length === 0) return;
    const rows =
      tx.dialect === "postgres"
        ? "SELECT k, $2::numeric FROM unnest($1::int[]) AS u(k)"
        : "SELECT value, $2 FROM json_each($1) WHERE true";
    await tx.run(
      `INSERT INTO eth_doppelganger (validator_id, held_epoch) ${rows}
       ON CONFLICT (validator_id) DO UPDATE SET held_epoch = excluded.held_epoch
       WHERE eth_doppelganger.held_epoch IS NULL OR eth_doppelganger.held_epoch < excluded.held_epoch`,
      [tx.dialect === "postgres" ? [...ids] : JSON.stringify(ids), tx.u64(epoch)],
    );
  },

  /** The keys left this signer (keymanager delete): their signing no longer proves a restart of ours. */
  async release(tx: SqlTx, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    const f = idsIn(tx, "validator_id", ids, 1);
    await tx.run(`UPDATE eth_doppelganger SET held_epoch = NULL WHERE ${f.sql}`, [f.param]);
  },

  /**
   * Lodestar's restart skip, made safe against imported history: keys with a signed attestation for
   * target `epoch` AND held verified by a slashguard signer in that epoch.
   */
  async signedAndHeldIn(tx: SqlTx, ids: readonly number[], epoch: bigint): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const f = idsIn(tx, "d.validator_id", ids, 1);
    const rows = await tx.all(
      `SELECT d.validator_id FROM eth_doppelganger d
       WHERE ${f.sql} AND d.detected_at IS NULL AND d.held_epoch >= $2
         AND EXISTS (SELECT 1 FROM eth_signed_attestations a WHERE a.validator_id = d.validator_id AND a.target_epoch = $2)`,
      [f.param, tx.u64(epoch)],
    );
    return new Set(rows.map((r) => num(r.validator_id)));
  },
};
