import type { SqlTx } from "../types.js";
import { batchedSubstrateSigning } from "./batchedSubstrateSigning.js";
import { rowByRowSubstrateSigning } from "./rowByRowSubstrateSigning.js";
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
  return dialect === "sqlite" ? rowByRowSubstrateSigning : batchedSubstrateSigning;
}
