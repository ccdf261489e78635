import type { SqlTx } from "../types.js";
import { rowByRowSubstrateSigning as byRow } from "./rowByRowSubstrateSigning.js";
import * as sub from "./substrateRows.js";
import type { BabeBlockRow, BeefyVoteRow, GrandpaProposalRow, GrandpaVoteRow, KeyLasts, ParaVoteRow } from "./types.js";

export interface KeyHistory {
  grandpaVotes: GrandpaVoteRow[];
  grandpaProposals: GrandpaProposalRow[];
  babeBlocks: BabeBlockRow[];
  paraVotes: ParaVoteRow[];
  beefyVotes: BeefyVoteRow[];
}

/** Reads and merges whole key histories (export, import, pruning); row by row, off the signing path. */
export const substrateHistoryRepository = {
  async load(tx: SqlTx, id: number): Promise<KeyHistory> {
    const q = (sql: string) => tx.all(sql, [id]);
    return {
      grandpaVotes: (
        await q(
          `SELECT ${sub.GRANDPA_COLS} FROM substrate_grandpa_votes WHERE key_id = $1 ORDER BY set_id, round, stage`,
        )
      ).map((r) => sub.grandpaRow(tx, r)),
      grandpaProposals: (
        await q(
          "SELECT key_id, set_id, round, target_hash, target_number FROM substrate_grandpa_proposals WHERE key_id = $1 ORDER BY set_id, round",
        )
      ).map((r) => ({
        id,
        setId: tx.fromU64(r.set_id),
        round: tx.fromU64(r.round),
        targetHash: new Uint8Array(r.target_hash as Buffer),
        targetNumber: tx.fromU64(r.target_number),
      })),
      babeBlocks: (await q(`SELECT ${sub.BABE_COLS} FROM substrate_babe_blocks WHERE key_id = $1 ORDER BY slot`)).map(
        (r) => sub.babeRow(tx, r),
      ),
      paraVotes: (
        await q(`SELECT ${sub.PARA_COLS} FROM substrate_para_votes WHERE key_id = $1 ORDER BY session, candidate_hash`)
      ).map((r) => sub.paraRow(tx, r)),
      beefyVotes: (
        await q(`SELECT ${sub.BEEFY_COLS} FROM substrate_beefy_votes WHERE key_id = $1 ORDER BY set_id, block_number`)
      ).map((r) => sub.beefyRow(tx, r)),
    };
  },

  /** Record counts per table for one key (status). */
  async counts(tx: SqlTx, id: number): Promise<{ grandpa: number; babe: number; para: number; beefy: number }> {
    const n = async (table: string): Promise<number> =>
      Number((await tx.all(`SELECT count(*) AS n FROM ${table} WHERE key_id = $1`, [id]))[0]!.n);
    return {
      grandpa: (await n("substrate_grandpa_votes")) + (await n("substrate_grandpa_proposals")),
      babe: await n("substrate_babe_blocks"),
      para: await n("substrate_para_votes"),
      beefy: await n("substrate_beefy_votes"),
    };
  },

  /** Adds a vote; a different target already stored at its place becomes NULL (both were signed: refuse all). */
  async mergeGrandpaVote(tx: SqlTx, v: GrandpaVoteRow): Promise<void> {
    const [c] = await byRow.loadGrandpa(tx, [v]);
    if (c === undefined) {
      await byRow.insertGrandpa(tx, [v]);
      return;
    }
    if (sameBytes(c.targetHash, v.targetHash) && c.targetNumber === v.targetNumber) return;
    await tx.run(
      "UPDATE substrate_grandpa_votes SET target_hash = NULL, target_number = NULL WHERE key_id = $1 AND set_id = $2 AND round = $3 AND stage = $4",
      [v.id, tx.u64(v.setId), tx.u64(v.round), v.stage],
    );
  },

  async mergeGrandpaProposal(tx: SqlTx, p: GrandpaProposalRow): Promise<void> {
    await byRow.insertProposals(tx, [p]);
  },

  async mergeBabeBlock(tx: SqlTx, b: BabeBlockRow): Promise<void> {
    const [cur] = await byRow.loadBabe(tx, [b]);
    if (cur === undefined) {
      await byRow.insertBabe(tx, [b]);
    } else if (!sameBytes(cur.preHash, b.preHash)) {
      await tx.run("UPDATE substrate_babe_blocks SET pre_hash = NULL WHERE key_id = $1 AND slot = $2", [
        b.id,
        tx.u64(b.slot),
      ]);
    }
  },

  /** Sides add up: valid + invalid (or a stored "both") gives NULL; statements are OR-ed; the later session wins. */
  async mergeParaVote(tx: SqlTx, p: ParaVoteRow): Promise<void> {
    const c = (await byRow.loadPara(tx, [p]))[0] ?? null;
    const side = c === null ? p.side : c.side === null || p.side === null || c.side !== p.side ? null : c.side;
    const session =
      c === null
        ? p.session
        : c.session === null
          ? p.session
          : p.session === null || c.session > p.session
            ? c.session
            : p.session;
    await byRow.upsertPara(tx, [{ ...p, side, statements: (c?.statements ?? 0) | p.statements, session }]);
  },

  async mergeBeefyVote(tx: SqlTx, v: BeefyVoteRow): Promise<void> {
    const [cur] = await byRow.loadBeefy(tx, [v]);
    if (cur === undefined) {
      await byRow.insertBeefy(tx, [v]);
    } else if (!sameBytes(cur.commitmentHash, v.commitmentHash)) {
      await tx.run(
        "UPDATE substrate_beefy_votes SET commitment_hash = NULL WHERE key_id = $1 AND set_id = $2 AND block_number = $3",
        [v.id, tx.u64(v.setId), tx.u64(v.blockNumber)],
      );
    }
  },

  /** Raises last_* to cover imported records (never lowers them). */
  async raiseLasts(tx: SqlTx, l: KeyLasts): Promise<void> {
    const [cur] = await tx.all(
      "SELECT last_set_id, last_round, last_slot, last_session FROM substrate_keys WHERE id = $1",
      [l.id],
    );
    if (cur === undefined) return;
    const max = (a: bigint | null, b: bigint | null): bigint | null => (a === null ? b : b === null || a >= b ? a : b);
    const curSet = tx.fromU64Nullable(cur.last_set_id);
    const curRound = tx.fromU64Nullable(cur.last_round);
    const takeNew =
      l.lastSetId !== null &&
      (curSet === null || l.lastSetId > curSet || (l.lastSetId === curSet && (l.lastRound ?? 0n) > (curRound ?? 0n)));
    await byRow.saveLasts(tx, [
      {
        id: l.id,
        lastSetId: takeNew ? l.lastSetId : curSet,
        lastRound: takeNew ? l.lastRound : curRound,
        lastSlot: max(tx.fromU64Nullable(cur.last_slot), l.lastSlot),
        lastSession: max(tx.fromU64Nullable(cur.last_session), l.lastSession),
      },
    ]);
  },

  /** Deletes one key's records below the given watermarks (they can decide nothing once the watermarks are raised). */
  async deleteBelow(
    tx: SqlTx,
    id: number,
    lows: { setId: bigint | null; slot: bigint | null; session: bigint | null },
  ): Promise<number> {
    let n = 0;
    const del = async (table: string, column: string, v: bigint | null): Promise<void> => {
      if (v !== null) n += await tx.run(`DELETE FROM ${table} WHERE key_id = $1 AND ${column} < $2`, [id, tx.u64(v)]);
    };
    await del("substrate_grandpa_votes", "set_id", lows.setId);
    await del("substrate_grandpa_proposals", "set_id", lows.setId);
    await del("substrate_beefy_votes", "set_id", lows.setId);
    await del("substrate_babe_blocks", "slot", lows.slot);
    await del("substrate_para_votes", "session", lows.session);
    return n;
  },
};

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a !== null && b !== null && Buffer.compare(a, b) === 0;
}
