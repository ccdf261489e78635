import * as sub from "./substrateRows.js";
import type { SubstrateSigningRepository } from "./substrateSigningRepository.js";
import type { BabeBlockRow, BeefyVoteRow, GrandpaVoteRow, ParaVoteRow } from "./types.js";

/**
 * One statement per row, plain SQL for both dialects: SQLite's decision batches (in process, there are no
 * round trips to save) and the history merges of import on either store.
 */
export const rowByRowSubstrateSigning: SubstrateSigningRepository = {
  async loadGrandpa(tx, qs) {
    const out: GrandpaVoteRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(
        `SELECT ${sub.GRANDPA_COLS} FROM substrate_grandpa_votes WHERE key_id = $1 AND set_id = $2 AND round = $3 AND stage = $4`,
        [q.id, tx.u64(q.setId), tx.u64(q.round), q.stage],
      );
      for (const r of rows) out.push(sub.grandpaRow(tx, r));
    }
    return out;
  },

  async loadBabe(tx, qs) {
    const out: BabeBlockRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(`SELECT ${sub.BABE_COLS} FROM substrate_babe_blocks WHERE key_id = $1 AND slot = $2`, [
        q.id,
        tx.u64(q.slot),
      ]);
      for (const r of rows) out.push(sub.babeRow(tx, r));
    }
    return out;
  },

  async loadPara(tx, qs) {
    const out: ParaVoteRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(
        `SELECT ${sub.PARA_COLS} FROM substrate_para_votes WHERE key_id = $1 AND candidate_hash = $2`,
        [q.id, q.candidateHash],
      );
      for (const r of rows) out.push(sub.paraRow(tx, r));
    }
    return out;
  },

  async loadBeefy(tx, qs) {
    const out: BeefyVoteRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(
        `SELECT ${sub.BEEFY_COLS} FROM substrate_beefy_votes WHERE key_id = $1 AND set_id = $2 AND block_number = $3`,
        [q.id, tx.u64(q.setId), tx.u64(q.blockNumber)],
      );
      for (const r of rows) out.push(sub.beefyRow(tx, r));
    }
    return out;
  },

  async insertBeefy(tx, rows) {
    for (const r of rows) {
      await tx.run(`INSERT INTO substrate_beefy_votes (${sub.BEEFY_COLS}) VALUES ($1, $2, $3, $4)`, [
        r.id,
        tx.u64(r.setId),
        tx.u64(r.blockNumber),
        r.commitmentHash,
      ]);
    }
  },

  async insertGrandpa(tx, rows) {
    for (const r of rows) {
      await tx.run(`INSERT INTO substrate_grandpa_votes (${sub.GRANDPA_COLS}) VALUES ($1, $2, $3, $4, $5, $6)`, [
        r.id,
        tx.u64(r.setId),
        tx.u64(r.round),
        r.stage,
        r.targetHash,
        tx.u64Nullable(r.targetNumber),
      ]);
    }
  },

  async insertProposals(tx, rows) {
    for (const r of rows) {
      await tx.run(
        `INSERT INTO substrate_grandpa_proposals (key_id, set_id, round, target_hash, target_number)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [r.id, tx.u64(r.setId), tx.u64(r.round), r.targetHash, tx.u64(r.targetNumber)],
      );
    }
  },

  async insertBabe(tx, rows) {
    for (const r of rows) {
      await tx.run(`INSERT INTO substrate_babe_blocks (${sub.BABE_COLS}) VALUES ($1, $2, $3, $4)`, [
        r.id,
        tx.u64(r.slot),
        r.preHash,
        r.authorityIndex,
      ]);
    }
  },

  async upsertPara(tx, rows) {
    for (const r of rows) {
      await tx.run(
        `INSERT INTO substrate_para_votes (${sub.PARA_COLS}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key_id, candidate_hash) DO UPDATE SET side = excluded.side, statements = excluded.statements,
           session = excluded.session`,
        [r.id, r.candidateHash, r.side, r.statements, tx.u64Nullable(r.session)],
      );
    }
  },

  async saveLasts(tx, rows) {
    for (const r of rows) {
      await tx.run(`UPDATE substrate_keys SET ${sub.LASTS_SET} WHERE id = $1`, [
        r.id,
        tx.u64Nullable(r.lastSetId),
        tx.u64Nullable(r.lastRound),
        tx.u64Nullable(r.lastSlot),
        tx.u64Nullable(r.lastSession),
      ]);
    }
  },
};
