import { bytesOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

/** One row of cometbft_sign_state in domain form (the chain layer's SignState plus identity). */
export interface CometStateRow {
  id: number;
  chainId: string;
  pubkey: Uint8Array;
  height: bigint;
  round: number;
  step: number;
  signBytes: Uint8Array | null;
  signature: Uint8Array | null;
}

export interface CometStateUpdate {
  id: number;
  height: bigint;
  round: number;
  step: number;
  signBytes: Uint8Array | null;
  signature: Uint8Array | null;
}

function toRow(tx: SqlTx, r: Record<string, unknown>): CometStateRow {
  return {
    id: Number(r.id),
    chainId: String(r.chain_id),
    pubkey: new Uint8Array(r.pubkey as Buffer),
    height: tx.fromU64(r.height),
    round: Number(r.round),
    step: Number(r.step),
    signBytes: bytesOrNull(r.sign_bytes),
    signature: bytesOrNull(r.signature),
  };
}

const COLUMNS = "id, chain_id, pubkey, height, round, step, sign_bytes, signature";

/** The last-sign state per (chain id, key); statements run inside the caller's transaction. */
export const cometSignStateRepository = {
  /** Insert-or-get the row of a key (fresh rows start at 0/0/0 with nothing signed). */
  async register(tx: SqlTx, chainId: string, pubkey: Uint8Array): Promise<number> {
    await tx.run(
      `INSERT INTO cometbft_sign_state (chain_id, pubkey, height, round, step, updated_at)
       VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT (chain_id, pubkey) DO NOTHING`,
      [chainId, pubkey, tx.u64(0n), new Date().toISOString()],
    );
    const [r] = await tx.all("SELECT id FROM cometbft_sign_state WHERE chain_id = $1 AND pubkey = $2", [
      chainId,
      pubkey,
    ]);
    return Number(r!.id);
  },

  async find(tx: SqlTx, chainId: string, pubkey: Uint8Array): Promise<CometStateRow | null> {
    const [r] = await tx.all(`SELECT ${COLUMNS} FROM cometbft_sign_state WHERE chain_id = $1 AND pubkey = $2`, [
      chainId,
      pubkey,
    ]);
    return r === undefined ? null : toRow(tx, r);
  },

  async load(tx: SqlTx, ids: readonly number[]): Promise<Map<number, CometStateRow>> {
    const out = new Map<number, CometStateRow>();
    if (ids.length === 0) return out;
    const rows =
      tx.dialect === "postgres"
        ? await tx.all(`SELECT ${COLUMNS} FROM cometbft_sign_state WHERE id = ANY($1::int[])`, [[...ids]])
        : (
            await Promise.all(ids.map((id) => tx.all(`SELECT ${COLUMNS} FROM cometbft_sign_state WHERE id = $1`, [id])))
          ).flat();
    for (const r of rows) out.set(Number(r.id), toRow(tx, r));
    return out;
  },

  /**
   * Moves a key's state forward. The WHERE clause is the backstop of the lock: the row changes only if
   * the new height/round/step is above the stored one, so a write that lost a race changes nothing and
   * the caller fails closed. Returns whether the row changed.
   */
  async advance(tx: SqlTx, u: CometStateUpdate): Promise<boolean> {
    const h = tx.u64(u.height);
    const n = await tx.run(
      `UPDATE cometbft_sign_state
       SET height = $2, round = $3, step = $4, sign_bytes = $5, signature = $6, updated_at = $7
       WHERE id = $1 AND (height < $2 OR (height = $2 AND (round < $3 OR (round = $3 AND step < $4))))`,
      [u.id, h, u.round, u.step, u.signBytes, u.signature, new Date().toISOString()],
    );
    return n === 1;
  },
};
