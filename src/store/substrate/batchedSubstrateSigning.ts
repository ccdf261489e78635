import { u64Array } from "../u64Codec.js";
import * as sub from "./substrateRows.js";
import type { SubstrateSigningRepository } from "./substrateSigningRepository.js";

/** PostgreSQL: one statement per step for the whole batch (arrays + unnest). */
export const batchedSubstrateSigning: SubstrateSigningRepository = {
  async loadGrandpa(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT v.key_id, v.set_id, v.round, v.stage, v.target_hash, v.target_number FROM substrate_grandpa_votes v
       JOIN unnest($1::int[], $2::numeric[], $3::numeric[], $4::smallint[]) AS q(id, set_id, round, stage)
         ON v.key_id = q.id AND v.set_id = q.set_id AND v.round = q.round AND v.stage = q.stage`,
      [qs.map((q) => q.id), u64Array(tx, qs, (q) => q.setId), u64Array(tx, qs, (q) => q.round), qs.map((q) => q.stage)],
    );
    return rows.map((r) => sub.grandpaRow(tx, r));
  },

  async loadBabe(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT b.key_id, b.slot, b.pre_hash, b.authority_index FROM substrate_babe_blocks b
       JOIN unnest($1::int[], $2::numeric[]) AS q(id, slot) ON b.key_id = q.id AND b.slot = q.slot`,
      [qs.map((q) => q.id), u64Array(tx, qs, (q) => q.slot)],
    );
    return rows.map((r) => sub.babeRow(tx, r));
  },

  async loadPara(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT p.key_id, p.candidate_hash, p.side, p.statements, p.session FROM substrate_para_votes p
       JOIN unnest($1::int[], $2::bytea[]) AS q(id, h) ON p.key_id = q.id AND p.candidate_hash = q.h`,
      [qs.map((q) => q.id), qs.map((q) => q.candidateHash)],
    );
    return rows.map((r) => sub.paraRow(tx, r));
  },

  async loadBeefy(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT v.key_id, v.set_id, v.block_number, v.commitment_hash FROM substrate_beefy_votes v
       JOIN unnest($1::int[], $2::numeric[], $3::numeric[]) AS q(id, set_id, block_number)
         ON v.key_id = q.id AND v.set_id = q.set_id AND v.block_number = q.block_number`,
      [qs.map((q) => q.id), u64Array(tx, qs, (q) => q.setId), u64Array(tx, qs, (q) => q.blockNumber)],
    );
    return rows.map((r) => sub.beefyRow(tx, r));
  },

  async insertBeefy(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_beefy_votes (${sub.BEEFY_COLS})
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::bytea[])`,
      [
        rows.map((r) => r.id),
        u64Array(tx, rows, (r) => r.setId),
        u64Array(tx, rows, (r) => r.blockNumber),
        rows.map((r) => r.commitmentHash),
      ],
    );
  },

  async insertGrandpa(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_grandpa_votes (${sub.GRANDPA_COLS})
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::smallint[], $5::bytea[], $6::numeric[])`,
      [
        rows.map((r) => r.id),
        u64Array(tx, rows, (r) => r.setId),
        u64Array(tx, rows, (r) => r.round),
        rows.map((r) => r.stage),
        rows.map((r) => r.targetHash),
        u64Array(tx, rows, (r) => r.targetNumber),
      ],
    );
  },

  async insertProposals(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_grandpa_proposals (key_id, set_id, round, target_hash, target_number)
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::bytea[], $5::numeric[]) ON CONFLICT DO NOTHING`,
      [
        rows.map((r) => r.id),
        u64Array(tx, rows, (r) => r.setId),
        u64Array(tx, rows, (r) => r.round),
        rows.map((r) => r.targetHash),
        u64Array(tx, rows, (r) => r.targetNumber),
      ],
    );
  },

  async insertBabe(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_babe_blocks (${sub.BABE_COLS})
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::bytea[], $4::bigint[])`,
      [
        rows.map((r) => r.id),
        u64Array(tx, rows, (r) => r.slot),
        rows.map((r) => r.preHash),
        rows.map((r) => r.authorityIndex),
      ],
    );
  },

  async upsertPara(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_para_votes (${sub.PARA_COLS})
       SELECT * FROM unnest($1::int[], $2::bytea[], $3::smallint[], $4::smallint[], $5::numeric[])
       ON CONFLICT (key_id, candidate_hash) DO UPDATE SET side = excluded.side, statements = excluded.statements,
         session = excluded.session`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.candidateHash),
        rows.map((r) => r.side),
        rows.map((r) => r.statements),
        u64Array(tx, rows, (r) => r.session),
      ],
    );
  },

  async saveLasts(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `UPDATE substrate_keys k SET last_set_id = q.s, last_round = q.r, last_slot = q.sl, last_session = q.se
       FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[]) AS q(id, s, r, sl, se)
       WHERE k.id = q.id`,
      [
        rows.map((r) => r.id),
        u64Array(tx, rows, (r) => r.lastSetId),
        u64Array(tx, rows, (r) => r.lastRound),
        u64Array(tx, rows, (r) => r.lastSlot),
        u64Array(tx, rows, (r) => r.lastSession),
      ],
    );
  },
};
