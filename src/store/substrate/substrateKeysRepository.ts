import type { SqlTx } from "../types.js";
import type { SubstrateKeyState } from "./types.js";

export interface SubstrateKeyRef {
  keyType: string;
  publicKey: Uint8Array;
}

export const keyRefString = (keyType: string, publicKey: Uint8Array): string =>
  `${keyType}:${Buffer.from(publicKey).toString("hex")}`;

const STATE_SQL = `SELECT id, enabled, low_set_id, low_slot, low_session, last_set_id, last_round, last_slot, last_session
  FROM substrate_keys`;

function keyState(tx: SqlTx, r: Record<string, unknown>): SubstrateKeyState {
  return {
    id: Number(r.id),
    enabled: Boolean(r.enabled),
    lowSetId: tx.fromU64Nullable(r.low_set_id),
    lowSlot: tx.fromU64Nullable(r.low_slot),
    lowSession: tx.fromU64Nullable(r.low_session),
    lastSetId: tx.fromU64Nullable(r.last_set_id),
    lastRound: tx.fromU64Nullable(r.last_round),
    lastSlot: tx.fromU64Nullable(r.last_slot),
    lastSession: tx.fromU64Nullable(r.last_session),
  };
}

/** substrate_keys: registration, enable/disable, listing. */
export const substrateKeysRepository = {
  /**
   * Files missing keys and returns, by keyRefString of each requested key, the row of its public key:
   * its id and the key type it is filed under. A public key has one row (one key type, migration 0007);
   * when that type differs from the requested one, the caller refuses the key.
   */
  async upsert(tx: SqlTx, keys: readonly SubstrateKeyRef[]): Promise<Map<string, { id: number; keyType: string }>> {
    const out = new Map<string, { id: number; keyType: string }>();
    // in public-key order: two processes filing the same new keys never wait for each other in a cycle
    const hex = (k: SubstrateKeyRef): string => Buffer.from(k.publicKey).toString("hex");
    for (const k of [...keys].sort((a, b) => (hex(a) < hex(b) ? -1 : hex(a) > hex(b) ? 1 : 0))) {
      await tx.run("INSERT INTO substrate_keys (key_type, public_key) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
        k.keyType,
        k.publicKey,
      ]);
      const [r] = await tx.all("SELECT id, key_type FROM substrate_keys WHERE public_key = $1", [k.publicKey]);
      if (r !== undefined)
        out.set(keyRefString(k.keyType, k.publicKey), { id: Number(r.id), keyType: String(r.key_type) });
    }
    return out;
  },

  async loadStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, SubstrateKeyState>> {
    const out = new Map<number, SubstrateKeyState>();
    if (ids.length === 0) return out;
    if (tx.dialect === "postgres") {
      for (const r of await tx.all(`${STATE_SQL} WHERE id = ANY($1::int[])`, [ids]))
        out.set(Number(r.id), keyState(tx, r));
    } else {
      for (const id of ids) {
        const [r] = await tx.all(`${STATE_SQL} WHERE id = $1`, [id]);
        if (r !== undefined) out.set(id, keyState(tx, r));
      }
    }
    return out;
  },

  async setEnabled(tx: SqlTx, ids: readonly number[], enabled: boolean): Promise<void> {
    for (const id of ids) await tx.run("UPDATE substrate_keys SET enabled = $1 WHERE id = $2", [enabled, id]);
  },

  /** Keys after `afterId`, in id order, with their state (status output, export, pruning). */
  async page(
    tx: SqlTx,
    afterId: number,
    limit: number,
  ): Promise<(SubstrateKeyState & { keyType: string; publicKey: Uint8Array })[]> {
    const rows = await tx.all(
      `SELECT id, key_type, public_key, enabled, low_set_id, low_slot, low_session, last_set_id, last_round,
         last_slot, last_session FROM substrate_keys WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => ({
      ...keyState(tx, r),
      keyType: String(r.key_type),
      publicKey: new Uint8Array(r.public_key as Buffer),
    }));
  },

  /** Raises watermarks (never lowers them): each given value replaces a lower or missing one. */
  async raiseLows(
    tx: SqlTx,
    id: number,
    lows: { setId: bigint | null; slot: bigint | null; session: bigint | null },
  ): Promise<void> {
    const cols = [
      ["low_set_id", lows.setId],
      ["low_slot", lows.slot],
      ["low_session", lows.session],
    ] as const;
    for (const [col, v] of cols) {
      if (v === null) continue;
      await tx.run(`UPDATE substrate_keys SET ${col} = $1 WHERE id = $2 AND (${col} IS NULL OR ${col} < $1)`, [
        tx.u64(v),
        id,
      ]);
    }
  },
};
