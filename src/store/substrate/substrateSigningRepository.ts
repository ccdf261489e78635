import type { SqlScalar, SqlTx } from "../types.js";
import type { BabeBlockRow, BeefyVoteRow, GrandpaProposalRow, GrandpaVoteRow, KeyLasts, ParaVoteRow } from "./types.js";

export interface GrandpaQuery {
  id: number;
  setId: bigint;
  round: bigint;
  stage: number;
}

export interface BabeQuery {
  id: number;
  slot: bigint;
}

export interface BeefyQuery {
  id: number;
  setId: bigint;
  blockNumber: bigint;
}

export interface ParaQuery {
  id: number;
  candidateHash: Uint8Array;
}

/**
 * The statements of one Substrate decision batch. SQLite runs one prepared statement per row (no
 * round trips to save); PostgreSQL runs one statement per step for the whole batch (arrays + unnest).
 */
export interface SubstrateSigningRepository {
  loadGrandpa(tx: SqlTx, qs: readonly GrandpaQuery[]): Promise<GrandpaVoteRow[]>;
  loadBabe(tx: SqlTx, qs: readonly BabeQuery[]): Promise<BabeBlockRow[]>;
  loadPara(tx: SqlTx, qs: readonly ParaQuery[]): Promise<ParaVoteRow[]>;
  loadBeefy(tx: SqlTx, qs: readonly BeefyQuery[]): Promise<BeefyVoteRow[]>;
  insertGrandpa(tx: SqlTx, rows: readonly GrandpaVoteRow[]): Promise<void>;
  insertProposals(tx: SqlTx, rows: readonly GrandpaProposalRow[]): Promise<void>;
  insertBabe(tx: SqlTx, rows: readonly BabeBlockRow[]): Promise<void>;
  upsertPara(tx: SqlTx, rows: readonly ParaVoteRow[]): Promise<void>;
  insertBeefy(tx: SqlTx, rows: readonly BeefyVoteRow[]): Promise<void>;
  saveLasts(tx: SqlTx, rows: readonly KeyLasts[]): Promise<void>;
}

export function substrateSigningRepository(dialect: SqlTx["dialect"]): SubstrateSigningRepository {
  return dialect === "sqlite" ? sqliteRepo : postgresRepo;
}

const bytes = (v: unknown): Uint8Array | null => (v === null || v === undefined ? null : new Uint8Array(v as Buffer));

export function grandpaRow(tx: SqlTx, r: Record<string, unknown>): GrandpaVoteRow {
  return {
    id: Number(r.key_id),
    setId: tx.fromU64(r.set_id),
    round: tx.fromU64(r.round),
    stage: Number(r.stage),
    targetHash: bytes(r.target_hash),
    targetNumber: tx.fromU64Nullable(r.target_number),
  };
}

export function babeRow(tx: SqlTx, r: Record<string, unknown>): BabeBlockRow {
  return {
    id: Number(r.key_id),
    slot: tx.fromU64(r.slot),
    preHash: bytes(r.pre_hash),
    authorityIndex: r.authority_index === null ? null : Number(r.authority_index),
  };
}

export function paraRow(tx: SqlTx, r: Record<string, unknown>): ParaVoteRow {
  return {
    id: Number(r.key_id),
    candidateHash: bytes(r.candidate_hash)!,
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
    commitmentHash: bytes(r.commitment_hash),
  };
}

const BEEFY_COLS = "key_id, set_id, block_number, commitment_hash";
const GRANDPA_COLS = "key_id, set_id, round, stage, target_hash, target_number";
const BABE_COLS = "key_id, slot, pre_hash, authority_index";
const PARA_COLS = "key_id, candidate_hash, side, statements, session";
const LASTS_SET = `last_set_id = $2, last_round = $3, last_slot = $4, last_session = $5`;

const sqliteRepo: SubstrateSigningRepository = {
  async loadGrandpa(tx, qs) {
    const out: GrandpaVoteRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(
        `SELECT ${GRANDPA_COLS} FROM substrate_grandpa_votes WHERE key_id = $1 AND set_id = $2 AND round = $3 AND stage = $4`,
        [q.id, tx.u64(q.setId), tx.u64(q.round), q.stage],
      );
      for (const r of rows) out.push(grandpaRow(tx, r));
    }
    return out;
  },

  async loadBabe(tx, qs) {
    const out: BabeBlockRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(`SELECT ${BABE_COLS} FROM substrate_babe_blocks WHERE key_id = $1 AND slot = $2`, [
        q.id,
        tx.u64(q.slot),
      ]);
      for (const r of rows) out.push(babeRow(tx, r));
    }
    return out;
  },

  async loadPara(tx, qs) {
    const out: ParaVoteRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(
        `SELECT ${PARA_COLS} FROM substrate_para_votes WHERE key_id = $1 AND candidate_hash = $2`,
        [q.id, q.candidateHash],
      );
      for (const r of rows) out.push(paraRow(tx, r));
    }
    return out;
  },

  async loadBeefy(tx, qs) {
    const out: BeefyVoteRow[] = [];
    for (const q of qs) {
      const rows = await tx.all(
        `SELECT ${BEEFY_COLS} FROM substrate_beefy_votes WHERE key_id = $1 AND set_id = $2 AND block_number = $3`,
        [q.id, tx.u64(q.setId), tx.u64(q.blockNumber)],
      );
      for (const r of rows) out.push(beefyRow(tx, r));
    }
    return out;
  },

  async insertBeefy(tx, rows) {
    for (const r of rows) {
      await tx.run(`INSERT INTO substrate_beefy_votes (${BEEFY_COLS}) VALUES ($1, $2, $3, $4)`, [
        r.id,
        tx.u64(r.setId),
        tx.u64(r.blockNumber),
        r.commitmentHash,
      ]);
    }
  },

  async insertGrandpa(tx, rows) {
    for (const r of rows) {
      await tx.run(`INSERT INTO substrate_grandpa_votes (${GRANDPA_COLS}) VALUES ($1, $2, $3, $4, $5, $6)`, [
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
      await tx.run(`INSERT INTO substrate_babe_blocks (${BABE_COLS}) VALUES ($1, $2, $3, $4)`, [
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
        `INSERT INTO substrate_para_votes (${PARA_COLS}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key_id, candidate_hash) DO UPDATE SET side = excluded.side, statements = excluded.statements,
           session = excluded.session`,
        [r.id, r.candidateHash, r.side, r.statements, tx.u64Nullable(r.session)],
      );
    }
  },

  async saveLasts(tx, rows) {
    for (const r of rows) {
      await tx.run(`UPDATE substrate_keys SET ${LASTS_SET} WHERE id = $1`, [
        r.id,
        tx.u64Nullable(r.lastSetId),
        tx.u64Nullable(r.lastRound),
        tx.u64Nullable(r.lastSlot),
        tx.u64Nullable(r.lastSession),
      ]);
    }
  },
};

const u64s = (tx: SqlTx, vs: readonly (bigint | null)[]): SqlScalar[] => vs.map((v) => tx.u64Nullable(v));

const postgresRepo: SubstrateSigningRepository = {
  async loadGrandpa(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT v.key_id, v.set_id, v.round, v.stage, v.target_hash, v.target_number FROM substrate_grandpa_votes v
       JOIN unnest($1::int[], $2::numeric[], $3::numeric[], $4::smallint[]) AS q(id, set_id, round, stage)
         ON v.key_id = q.id AND v.set_id = q.set_id AND v.round = q.round AND v.stage = q.stage`,
      [
        qs.map((q) => q.id),
        u64s(
          tx,
          qs.map((q) => q.setId),
        ),
        u64s(
          tx,
          qs.map((q) => q.round),
        ),
        qs.map((q) => q.stage),
      ],
    );
    return rows.map((r) => grandpaRow(tx, r));
  },

  async loadBabe(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT b.key_id, b.slot, b.pre_hash, b.authority_index FROM substrate_babe_blocks b
       JOIN unnest($1::int[], $2::numeric[]) AS q(id, slot) ON b.key_id = q.id AND b.slot = q.slot`,
      [
        qs.map((q) => q.id),
        u64s(
          tx,
          qs.map((q) => q.slot),
        ),
      ],
    );
    return rows.map((r) => babeRow(tx, r));
  },

  async loadPara(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT p.key_id, p.candidate_hash, p.side, p.statements, p.session FROM substrate_para_votes p
       JOIN unnest($1::int[], $2::bytea[]) AS q(id, h) ON p.key_id = q.id AND p.candidate_hash = q.h`,
      [qs.map((q) => q.id), qs.map((q) => q.candidateHash)],
    );
    return rows.map((r) => paraRow(tx, r));
  },

  async loadBeefy(tx, qs) {
    if (qs.length === 0) return [];
    const rows = await tx.all(
      `SELECT v.key_id, v.set_id, v.block_number, v.commitment_hash FROM substrate_beefy_votes v
       JOIN unnest($1::int[], $2::numeric[], $3::numeric[]) AS q(id, set_id, block_number)
         ON v.key_id = q.id AND v.set_id = q.set_id AND v.block_number = q.block_number`,
      [
        qs.map((q) => q.id),
        u64s(
          tx,
          qs.map((q) => q.setId),
        ),
        u64s(
          tx,
          qs.map((q) => q.blockNumber),
        ),
      ],
    );
    return rows.map((r) => beefyRow(tx, r));
  },

  async insertBeefy(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_beefy_votes (${BEEFY_COLS})
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::bytea[])`,
      [
        rows.map((r) => r.id),
        u64s(
          tx,
          rows.map((r) => r.setId),
        ),
        u64s(
          tx,
          rows.map((r) => r.blockNumber),
        ),
        rows.map((r) => r.commitmentHash),
      ],
    );
  },

  async insertGrandpa(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_grandpa_votes (${GRANDPA_COLS})
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::smallint[], $5::bytea[], $6::numeric[])`,
      [
        rows.map((r) => r.id),
        u64s(
          tx,
          rows.map((r) => r.setId),
        ),
        u64s(
          tx,
          rows.map((r) => r.round),
        ),
        rows.map((r) => r.stage),
        rows.map((r) => r.targetHash),
        u64s(
          tx,
          rows.map((r) => r.targetNumber),
        ),
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
        u64s(
          tx,
          rows.map((r) => r.setId),
        ),
        u64s(
          tx,
          rows.map((r) => r.round),
        ),
        rows.map((r) => r.targetHash),
        u64s(
          tx,
          rows.map((r) => r.targetNumber),
        ),
      ],
    );
  },

  async insertBabe(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_babe_blocks (${BABE_COLS})
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::bytea[], $4::bigint[])`,
      [
        rows.map((r) => r.id),
        u64s(
          tx,
          rows.map((r) => r.slot),
        ),
        rows.map((r) => r.preHash),
        rows.map((r) => r.authorityIndex),
      ],
    );
  },

  async upsertPara(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO substrate_para_votes (${PARA_COLS})
       SELECT * FROM unnest($1::int[], $2::bytea[], $3::smallint[], $4::smallint[], $5::numeric[])
       ON CONFLICT (key_id, candidate_hash) DO UPDATE SET side = excluded.side, statements = excluded.statements,
         session = excluded.session`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.candidateHash),
        rows.map((r) => r.side),
        rows.map((r) => r.statements),
        u64s(
          tx,
          rows.map((r) => r.session),
        ),
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
        u64s(
          tx,
          rows.map((r) => r.lastSetId),
        ),
        u64s(
          tx,
          rows.map((r) => r.lastRound),
        ),
        u64s(
          tx,
          rows.map((r) => r.lastSlot),
        ),
        u64s(
          tx,
          rows.map((r) => r.lastSession),
        ),
      ],
    );
  },
};
