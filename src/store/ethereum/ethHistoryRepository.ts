import { bytesOrNull as root } from "../sqlValues.js";
import type { SqlTx } from "../types.js";
import type { StoredAttestation, StoredBlock } from "./types.js";

export interface ValidatorSummaryRow {
  id: number;
  pubkey: Uint8Array;
  enabled: boolean;
  blocks: number;
  attestations: number;
  lowSlot: bigint | null;
  maxSlot: bigint | null;
  lowSource: bigint | null;
  lowTarget: bigint | null;
  maxSource: bigint | null;
  maxTarget: bigint | null;
}

/** Reading and trimming the signing history (export, status, pruning). */
export const ethHistoryRepository = {
  /** Records at or above the block low watermark, by slot. */
  async blocksFrom(tx: SqlTx, id: number, lowSlot: bigint | null): Promise<StoredBlock[]> {
    const rows = await tx.all(
      "SELECT slot, signing_root FROM eth_signed_blocks WHERE validator_id = $1 AND slot >= $2 ORDER BY slot",
      [id, tx.u64(lowSlot ?? 0n)],
    );
    return rows.map((r) => ({ slot: tx.fromU64(r.slot), signingRoot: root(r.signing_root) }));
  },

  async attestationsFrom(tx: SqlTx, id: number, lowTarget: bigint | null): Promise<StoredAttestation[]> {
    const rows = await tx.all(
      `SELECT source_epoch, target_epoch, signing_root FROM eth_signed_attestations
       WHERE validator_id = $1 AND target_epoch >= $2 ORDER BY target_epoch, source_epoch`,
      [id, tx.u64(lowTarget ?? 0n)],
    );
    return rows.map((r) => ({
      source: tx.fromU64(r.source_epoch),
      target: tx.fromU64(r.target_epoch),
      signingRoot: root(r.signing_root),
    }));
  },

  async summaries(tx: SqlTx, afterId: number, limit: number): Promise<ValidatorSummaryRow[]> {
    const rows = await tx.all(
      `SELECT v.id, v.pubkey, v.enabled,
         (SELECT count(*) FROM eth_signed_blocks b WHERE b.validator_id = v.id) AS blocks,
         (SELECT count(*) FROM eth_signed_attestations a WHERE a.validator_id = v.id) AS attestations,
         bs.low_slot, s.low_source, s.low_target,
         (SELECT max(b.slot) FROM eth_signed_blocks b WHERE b.validator_id = v.id) AS max_slot,
         (SELECT max(a.source_epoch) FROM eth_signed_attestations a WHERE a.validator_id = v.id) AS max_source,
         (SELECT max(a.target_epoch) FROM eth_signed_attestations a WHERE a.validator_id = v.id) AS max_target
       FROM eth_validators v
         LEFT JOIN eth_block_state bs ON bs.validator_id = v.id
         LEFT JOIN eth_attestation_state s ON s.validator_id = v.id
       WHERE v.id > $1 ORDER BY v.id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      pubkey: new Uint8Array(r.pubkey as Buffer),
      enabled: Boolean(r.enabled),
      blocks: Number(r.blocks),
      attestations: Number(r.attestations),
      lowSlot: tx.fromU64Nullable(r.low_slot),
      maxSlot: tx.fromU64Nullable(r.max_slot),
      lowSource: tx.fromU64Nullable(r.low_source),
      lowTarget: tx.fromU64Nullable(r.low_target),
      maxSource: tx.fromU64Nullable(r.max_source),
      maxTarget: tx.fromU64Nullable(r.max_target),
    }));
  },

  /** Lowest slot / target that is kept when everything below `point` goes (snapped to a stored record). */
  async nearestBlockFrom(tx: SqlTx, id: number, point: bigint): Promise<bigint | null> {
    const [r] = await tx.all("SELECT min(slot) AS m FROM eth_signed_blocks WHERE validator_id = $1 AND slot >= $2", [
      id,
      tx.u64(point),
    ]);
    return tx.fromU64Nullable(r?.m ?? null);
  },

  async nearestAttestationFrom(tx: SqlTx, id: number, point: bigint): Promise<bigint | null> {
    const [r] = await tx.all(
      "SELECT min(target_epoch) AS m FROM eth_signed_attestations WHERE validator_id = $1 AND target_epoch >= $2",
      [id, tx.u64(point)],
    );
    return tx.fromU64Nullable(r?.m ?? null);
  },

  /**
   * Highest source among records with target at or below `target` (the low target). A record below the
   * low target still forbids every vote that surrounds it (source below its source, target above), so
   * the source watermark must be at least this high before such a record may be deleted or left out of
   * an export; raising it that far forbids nothing new (the records forbid the same votes).
   */
  async maxSourceUpTo(tx: SqlTx, id: number, target: bigint): Promise<bigint | null> {
    const [r] = await tx.all(
      "SELECT max(source_epoch) AS m FROM eth_signed_attestations WHERE validator_id = $1 AND target_epoch <= $2",
      [id, tx.u64(target)],
    );
    return tx.fromU64Nullable(r?.m ?? null);
  },

  async setBlockLow(tx: SqlTx, id: number, lowSlot: bigint): Promise<void> {
    await tx.run("UPDATE eth_block_state SET low_slot = $2 WHERE validator_id = $1", [id, tx.u64(lowSlot)]);
  },

  async setAttestationLow(tx: SqlTx, id: number, lowSource: bigint, lowTarget: bigint): Promise<void> {
    await tx.run("UPDATE eth_attestation_state SET low_source = $2, low_target = $3 WHERE validator_id = $1", [
      id,
      tx.u64(lowSource),
      tx.u64(lowTarget),
    ]);
  },

  /** Deletes up to `span` slots of blocks below `below`, starting at the lowest; returns rows deleted. */
  async deleteBlocksBelow(tx: SqlTx, id: number, below: bigint, span: bigint): Promise<number> {
    const [r] = await tx.all("SELECT min(slot) AS m FROM eth_signed_blocks WHERE validator_id = $1", [id]);
    const lowest = tx.fromU64Nullable(r?.m ?? null);
    if (lowest === null || lowest >= below) return 0;
    const end = lowest + span < below ? lowest + span : below;
    return tx.run("DELETE FROM eth_signed_blocks WHERE validator_id = $1 AND slot < $2", [id, tx.u64(end)]);
  },

  /**
   * Deletes up to `span` epochs of records with target below `below` and source at most `maxSource`
   * (records that decide nothing under those watermarks), starting at the lowest; returns rows deleted.
   * A record below `below` with a higher source (imported after the watermarks moved) is kept.
   */
  async deleteAttestationsBelow(
    tx: SqlTx,
    id: number,
    below: bigint,
    maxSource: bigint,
    span: bigint,
  ): Promise<number> {
    const [r] = await tx.all(
      `SELECT min(target_epoch) AS m FROM eth_signed_attestations
       WHERE validator_id = $1 AND target_epoch < $2 AND source_epoch <= $3`,
      [id, tx.u64(below), tx.u64(maxSource)],
    );
    const lowest = tx.fromU64Nullable(r?.m ?? null);
    if (lowest === null) return 0;
    const end = lowest + span < below ? lowest + span : below;
    return tx.run(
      "DELETE FROM eth_signed_attestations WHERE validator_id = $1 AND target_epoch < $2 AND source_epoch <= $3",
      [id, tx.u64(end), tx.u64(maxSource)],
    );
  },
};
