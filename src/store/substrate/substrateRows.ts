import { bytesOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";
import type { BabeBlockRow, BeefyVoteRow, GrandpaVoteRow, ParaVoteRow } from "./types.js";

/** Substrate signing rows: the column lists both dialects write and the row mappers both read with. */

export function grandpaRow(tx: SqlTx, r: Record<string, unknown>): GrandpaVoteRow {
  return {
    id: Number(r.key_id),
    setId: tx.fromU64(r.set_id),
    round: tx.fromU64(r.round),
    stage: Number(r.stage),
    targetHash: bytesOrNull(r.target_hash),
    targetNumber: tx.fromU64Nullable(r.target_number),
  };
}

export function babeRow(tx: SqlTx, r: Record<string, unknown>): BabeBlockRow {
  return {
    id: Number(r.key_id),
    slot: tx.fromU64(r.slot),
    preHash: bytesOrNull(r.pre_hash),
    authorityIndex: r.authority_index === null ? null : Number(r.authority_index),
  };
}

export function paraRow(tx: SqlTx, r: Record<string, unknown>): ParaVoteRow {
  return {
    id: Number(r.key_id),
    candidateHash: bytesOrNull(r.candidate_hash)!,
    side: r.side === null ? null : (Number(r.side) as 0 | 1),
    statements: Number(r.statements),
    session: tx.fromU64Nullable(r.session),
  };
}

export function beefyRow(tx: SqlTx, r: Record<string, unknown>): BeefyVoteRow {
  return {
    id: Number(r.key_id),
    setId: tx.fromU64(r.set_id),
    blockNumber: tx.fromU64(r.block_number),
    commitmentHash: bytesOrNull(r.commitment_hash),
  };
}

export const BEEFY_COLS = "key_id, set_id, block_number, commitment_hash";
export const GRANDPA_COLS = "key_id, set_id, round, stage, target_hash, target_number";
export const BABE_COLS = "key_id, slot, pre_hash, authority_index";
export const PARA_COLS = "key_id, candidate_hash, side, statements, session";
export const LASTS_SET = `last_set_id = $2, last_round = $3, last_slot = $4, last_session = $5`;
