import type { SqlTx } from "../types.js";
import type { BlockStateRow } from "./types.js";

// Row decoders and statements both dialects' signing repositories share.

export type Raw = Record<string, unknown>;

export function blockState(tx: SqlTx, r: Raw): BlockStateRow {
  return {
    enabled: Boolean(r.enabled),
    lowSlot: tx.fromU64Nullable(r.low_slot),
    maxSlot: tx.fromU64Nullable(r.max_slot),
  };
}

export function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

// The highest slot / target and the source at the highest target are index lookups on the primary keys.
export const BLOCK_STATE_SQL = `SELECT v.id, v.enabled, s.low_slot,
    (SELECT max(b.slot) FROM eth_signed_blocks b WHERE b.validator_id = v.id) AS max_slot
  FROM eth_validators v LEFT JOIN eth_block_state s ON s.validator_id = v.id`;
