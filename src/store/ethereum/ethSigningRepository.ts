import { pgLiteral } from "../sqlLiteral.js";
import { bytesOrNull as root } from "../sqlValues.js";
import type { SqlTx } from "../types.js";
import { u64Array } from "../u64Codec.js";
import type {
  AttestationHistoryQuery,
  AttestationStateRow,
  AttestationStateValue,
  BlockHistoryQuery,
  BlockStateRow,
  BlockStateValue,
  NewAttestation,
  NewBlock,
  StateChange,
  StoredAttestation,
  StoredBlock,
} from "./types.js";

export interface BatchWrites {
  blocks: readonly NewBlock[];
  attestations: readonly NewAttestation[];
  blockStates: readonly StateChange<BlockStateValue>[];
  attestationStates: readonly StateChange<AttestationStateValue>[];
}

/** The statements of one signing-decision batch: a few set-based statements per batch, not per request. */
export interface EthSigningRepository {
  /** Called first in every decision transaction. */
  begin(tx: SqlTx): Promise<void>;
  loadBlockStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, BlockStateRow>>;
  loadAttestationStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, AttestationStateRow>>;
  loadBlocks(tx: SqlTx, queries: readonly BlockHistoryQuery[]): Promise<Map<number, StoredBlock[]>>;
  loadAttestations(tx: SqlTx, queries: readonly AttestationHistoryQuery[]): Promise<Map<number, StoredAttestation[]>>;
  write(tx: SqlTx, w: BatchWrites): Promise<void>;
}

/** A repository for one decision engine (the SQLite one keeps a cache, so do not share it between stores). */
export function ethSigningRepository(dialect: SqlTx["dialect"]): EthSigningRepository {
  return dialect === "sqlite" ? new SqliteEthSigningRepository() : postgresRepo;
}

type Raw = Record<string, unknown>;

function blockState(tx: SqlTx, r: Raw): BlockStateRow {
  return {
    enabled: Boolean(r.enabled),
    lowSlot: tx.fromU64Nullable(r.low_slot),
    maxSlot: tx.fromU64Nullable(r.max_slot),
  };
}

function attestationState(tx: SqlTx, r: Raw): AttestationStateRow {
  const top = tx.fromU64Nullable(r.top_source);
  const imported = tx.fromU64Nullable(r.import_max_source);
  return {
    enabled: Boolean(r.enabled),
    lowSource: tx.fromU64Nullable(r.low_source),
    lowTarget: tx.fromU64Nullable(r.low_target),
    maxSource: top === null ? imported : imported === null || top > imported ? top : imported,
    maxTarget: tx.fromU64Nullable(r.max_target),
  };
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

// The highest slot / target and the source at the highest target are index lookups on the primary keys.
const BLOCK_STATE_SQL = `SELECT v.id, v.enabled, s.low_slot,
    (SELECT max(b.slot) FROM eth_signed_blocks b WHERE b.validator_id = v.id) AS max_slot
  FROM eth_validators v LEFT JOIN eth_block_state s ON s.validator_id = v.id`;
const MAX_TARGET = "(SELECT max(x.target_epoch) FROM eth_signed_attestations x WHERE x.validator_id = v.id)";
const ATT_STATE_SQL = `SELECT v.id, v.enabled, s.low_source, s.low_target, s.import_max_source,
    ${MAX_TARGET} AS max_target,
    (SELECT max(a.source_epoch) FROM eth_signed_attestations a
     WHERE a.validator_id = v.id AND a.target_epoch = ${MAX_TARGET}) AS top_source
  FROM eth_validators v LEFT JOIN eth_attestation_state s ON s.validator_id = v.id`;

/**
 * PostgreSQL: one backward index probe per key for the highest target and its source. `ids` is an int[]
 * SQL expression (the repository passes an array constant; exported for bench/protectionProbe.ts).
 */
export function pgAttestationStatesSql(ids: string): string {
  return `SELECT v.id, v.enabled, s.low_source, s.low_target, s.import_max_source,
    m.target_epoch AS max_target, m.source_epoch AS top_source
  FROM eth_validators v
    LEFT JOIN LATERAL (SELECT * FROM eth_attestation_state x WHERE x.validator_id = v.id) s ON true
    LEFT JOIN LATERAL (
      SELECT a.target_epoch, a.source_epoch FROM eth_signed_attestations a
      WHERE a.validator_id = v.id ORDER BY a.target_epoch DESC, a.source_epoch DESC LIMIT 1
    ) m ON true
  WHERE v.id = ANY(${ids})`;
}

/**
 * SQLite: statements take a whole batch as one JSON parameter (json_each), and key states are cached in
 * memory while SqlTx.changeToken proves nothing else wrote the database since our last commit; the
 * first batch after any other write reloads them.
 */
class SqliteEthSigningRepository implements EthSigningRepository {
  private readonly blockStates = new Map<number, BlockStateRow>();
  private readonly attStates = new Map<number, AttestationStateRow>();
  private expected: string | null = null;

  async begin(tx: SqlTx): Promise<void> {
    const token = await tx.changeToken();
    if (token === null || token.now !== this.expected) {
      this.blockStates.clear();
      this.attStates.clear();
    }
    // valid for the next batch only if this transaction commits (a rollback leaves `now` unchanged)
    this.expected = token?.mine ?? null;
  }

  async loadBlockStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, BlockStateRow>> {
    return this.cached(tx, ids, this.blockStates, BLOCK_STATE_SQL, blockState);
  }

  async loadAttestationStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, AttestationStateRow>> {
    return this.cached(tx, ids, this.attStates, ATT_STATE_SQL, attestationState);
  }

  private async cached<S>(
    tx: SqlTx,
    ids: readonly number[],
    cache: Map<number, S>,
    sql: string,
    parse: (tx: SqlTx, r: Raw) => S,
  ): Promise<Map<number, S>> {
    const out = new Map<number, S>();
    const missing: number[] = [];
    for (const id of ids) {
      const s = cache.get(id);
      if (s === undefined) missing.push(id);
      else out.set(id, s);
    }
    if (missing.length > 0) {
      const rows = await tx.all(`${sql} WHERE v.id IN (SELECT value FROM json_each($1))`, [JSON.stringify(missing)]);
      for (const r of rows) {
        const s = parse(tx, r);
        out.set(Number(r.id), s);
        cache.set(Number(r.id), s);
      }
    }
    return out;
  }

  async loadBlocks(tx: SqlTx, queries: readonly BlockHistoryQuery[]): Promise<Map<number, StoredBlock[]>> {
    const out = new Map<number, StoredBlock[]>();
    for (const q of queries) {
      for (const slot of q.slots) {
        const rows = await tx.all(
          "SELECT slot, signing_root FROM eth_signed_blocks WHERE validator_id = $1 AND slot = $2",
          [q.id, tx.u64(slot)],
        );
        for (const r of rows) pushTo(out, q.id, { slot: tx.fromU64(r.slot), signingRoot: root(r.signing_root) });
      }
    }
    return out;
  }

  async loadAttestations(
    tx: SqlTx,
    queries: readonly AttestationHistoryQuery[],
  ): Promise<Map<number, StoredAttestation[]>> {
    const out = new Map<number, StoredAttestation[]>();
    for (const q of queries) {
      const rows = await tx.all(
        `SELECT source_epoch, target_epoch, signing_root FROM eth_signed_attestations
         WHERE validator_id = $1 AND (target_epoch >= $2 OR source_epoch > $3)`,
        [q.id, tx.u64(q.minTarget), tx.u64(q.minSource)],
      );
      for (const r of rows) {
        pushTo(out, q.id, {
          source: tx.fromU64(r.source_epoch),
          target: tx.fromU64(r.target_epoch),
          signingRoot: root(r.signing_root),
        });
      }
    }
    return out;
  }

  async write(tx: SqlTx, w: BatchWrites): Promise<void> {
    const n = (v: bigint | null): string => (v === null ? "null" : String(tx.u64(v)));
    // Records: one prepared statement per row binds the root as a blob directly (cheaper here than
    // building and parsing a JSON batch with hex roots); no round trips to save in-process.
    for (const r of w.blocks) {
      await tx.run("INSERT INTO eth_signed_blocks (validator_id, slot, signing_root) VALUES ($1, $2, $3)", [
        r.id,
        tx.u64(r.slot),
        r.signingRoot,
      ]);
    }
    for (const r of w.attestations) {
      await tx.run(
        "INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root) VALUES ($1, $2, $3, $4)",
        [r.id, tx.u64(r.target), tx.u64(r.source), r.signingRoot],
      );
    }
    const blockLows = w.blockStates.filter((c) => c.persist);
    if (blockLows.length > 0) {
      await tx.run(
        `INSERT INTO eth_block_state (validator_id, low_slot)
         SELECT value->>0, value->>1 FROM json_each($1) WHERE true
         ON CONFLICT (validator_id) DO UPDATE SET low_slot = excluded.low_slot`,
        [`[${blockLows.map((c) => `[${c.id},${n(c.state.lowSlot)}]`).join(",")}]`],
      );
    }
    const attLows = w.attestationStates.filter((c) => c.persist);
    if (attLows.length > 0) {
      await tx.run(
        `INSERT INTO eth_attestation_state (validator_id, low_source, low_target)
         SELECT value->>0, value->>1, value->>2 FROM json_each($1) WHERE true
         ON CONFLICT (validator_id) DO UPDATE SET low_source = excluded.low_source, low_target = excluded.low_target`,
        [`[${attLows.map((c) => `[${c.id},${n(c.state.lowSource)},${n(c.state.lowTarget)}]`).join(",")}]`],
      );
    }
    for (const c of w.blockStates) this.blockStates.set(c.id, { enabled: true, ...c.state });
    for (const c of w.attestationStates) this.attStates.set(c.id, { enabled: true, ...c.state });
  }
}

/**
 * PostgreSQL: every write of a batch as one statement (data-modifying CTEs all run), or null when there is
 * nothing to write. Each column is one array constant (hex text for the roots), cheaper to parse than an
 * element-wise ARRAY[]. Exported for bench/protectionProbe.ts.
 */
export function pgBatchWriteSql(w: BatchWrites): string | null {
  const blockLows = w.blockStates.filter((c) => c.persist);
  const attLows = w.attestationStates.filter((c) => c.persist);
  if (w.blocks.length + w.attestations.length + blockLows.length + attLows.length === 0) return null;
  const L = pgLiteral;
  const parts: string[] = [];
  if (w.blocks.length > 0) {
    parts.push(`b AS (INSERT INTO eth_signed_blocks (validator_id, slot, signing_root)
         SELECT i, s, decode(r, 'hex') FROM unnest(${L.intArray(w.blocks.map((r) => r.id))},
           ${L.numericArray(w.blocks.map((r) => r.slot))}, ${L.hexArray(w.blocks.map((r) => r.signingRoot))}) AS u(i, s, r))`);
  }
  if (w.attestations.length > 0) {
    parts.push(`a AS (INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root)
         SELECT i, t, s, decode(r, 'hex') FROM unnest(${L.intArray(w.attestations.map((r) => r.id))},
           ${L.numericArray(w.attestations.map((r) => r.target))}, ${L.numericArray(w.attestations.map((r) => r.source))},
           ${L.hexArray(w.attestations.map((r) => r.signingRoot))}) AS u(i, t, s, r))`);
  }
  if (blockLows.length > 0) {
    parts.push(`bs AS (INSERT INTO eth_block_state (validator_id, low_slot)
         SELECT * FROM unnest(${L.intArray(blockLows.map((c) => c.id))}, ${L.numericArray(blockLows.map((c) => c.state.lowSlot))})
         ON CONFLICT (validator_id) DO UPDATE SET low_slot = excluded.low_slot)`);
  }
  if (attLows.length > 0) {
    parts.push(`s AS (INSERT INTO eth_attestation_state (validator_id, low_source, low_target)
         SELECT * FROM unnest(${L.intArray(attLows.map((c) => c.id))}, ${L.numericArray(attLows.map((c) => c.state.lowSource))},
           ${L.numericArray(attLows.map((c) => c.state.lowTarget))})
         ON CONFLICT (validator_id) DO UPDATE SET low_source = excluded.low_source, low_target = excluded.low_target)`);
  }
  return `WITH ${parts.join(", ")} SELECT 1`;
}

/** PostgreSQL: one statement per step for the whole batch (arrays + unnest); all writes in one statement. */
const postgresRepo: EthSigningRepository = {
  async begin() {},

  // The state reads carry no parameters (ids as an array constant): the first one of a decision batch
  // travels with BEGIN and the key locks (beginWith) in one round trip, as the statement after the locks.
  async loadBlockStates(tx, ids) {
    const rows = await tx.all(`${BLOCK_STATE_SQL} WHERE v.id = ANY(${pgLiteral.intArray(ids)})`);
    return new Map(rows.map((r) => [Number(r.id), blockState(tx, r)]));
  },

  async loadAttestationStates(tx, ids) {
    const rows = await tx.all(pgAttestationStatesSql(pgLiteral.intArray(ids)));
    return new Map(rows.map((r) => [Number(r.id), attestationState(tx, r)]));
  },

  async loadBlocks(tx, queries) {
    const ids: number[] = [];
    const slots: bigint[] = [];
    for (const q of queries) {
      for (const s of q.slots) {
        ids.push(q.id);
        slots.push(s);
      }
    }
    const rows = await tx.all(
      `SELECT b.validator_id, b.slot, b.signing_root FROM eth_signed_blocks b
       JOIN unnest($1::int[], $2::numeric[]) AS q(id, slot) ON b.validator_id = q.id AND b.slot = q.slot`,
      [ids, u64Array(tx, slots, (s) => s)],
    );
    const out = new Map<number, StoredBlock[]>();
    for (const r of rows) {
      pushTo(out, Number(r.validator_id), { slot: tx.fromU64(r.slot), signingRoot: root(r.signing_root) });
    }
    return out;
  },

  async loadAttestations(tx, queries) {
    const rows = await tx.all(
      `SELECT a.validator_id, a.source_epoch, a.target_epoch, a.signing_root FROM eth_signed_attestations a
       JOIN unnest($1::int[], $2::numeric[], $3::numeric[]) AS q(id, min_target, min_source)
         ON a.validator_id = q.id AND (a.target_epoch >= q.min_target OR a.source_epoch > q.min_source)`,
      [queries.map((q) => q.id), u64Array(tx, queries, (q) => q.minTarget), u64Array(tx, queries, (q) => q.minSource)],
    );
    const out = new Map<number, StoredAttestation[]>();
    for (const r of rows) {
      pushTo(out, Number(r.validator_id), {
        source: tx.fromU64(r.source_epoch),
        target: tx.fromU64(r.target_epoch),
        signingRoot: root(r.signing_root),
      });
    }
    return out;
  },

  async write(tx, w) {
    // sent with COMMIT: no round trip of its own
    const sql = pgBatchWriteSql(w);
    if (sql !== null) tx.runAtCommit(sql);
  },
};
