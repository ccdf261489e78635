import { maxBigOrNull } from "../../util/u64.js";
import { bytesOrNull as root } from "../sqlValues.js";
import type { SqlTx } from "../types.js";
import type { BatchWrites, EthSigningRepository, EthSigningRepositoryHooks } from "./ethSigningRepository.js";
import { BLOCK_STATE_SQL, blockState, pushTo, type Raw } from "./ethSigningRows.js";
import type {
  AttestationHistoryQuery,
  AttestationStateRow,
  BlockHistoryQuery,
  BlockStateRow,
  StoredAttestation,
  StoredBlock,
} from "./types.js";

const MAX_TARGET = "(SELECT max(x.target_epoch) FROM eth_signed_attestations x WHERE x.validator_id = v.id)";
const ATT_STATE_SQL = `SELECT v.id, v.enabled, s.low_source, s.low_target, s.import_max_source,
    ${MAX_TARGET} AS max_target,
    (SELECT max(a.source_epoch) FROM eth_signed_attestations a
     WHERE a.validator_id = v.id AND a.target_epoch = ${MAX_TARGET}) AS top_source
  FROM eth_validators v LEFT JOIN eth_attestation_state s ON s.validator_id = v.id`;

// the source at the highest target bounds every stored source together with import_max_source (0001)
function attestationState(tx: SqlTx, r: Raw): AttestationStateRow {
  return {
    enabled: Boolean(r.enabled),
    lowSource: tx.fromU64Nullable(r.low_source),
    lowTarget: tx.fromU64Nullable(r.low_target),
    maxSource: maxBigOrNull(tx.fromU64Nullable(r.top_source), tx.fromU64Nullable(r.import_max_source)),
    maxTarget: tx.fromU64Nullable(r.max_target),
  };
}

/**
 * SQLite: statements take a whole batch as one JSON parameter (json_each), and key states are cached in
 * memory while SqlTx.changeToken proves nothing else wrote the database since our last commit; the
 * first batch after any other write reloads them.
 */
export class SqliteEthSigningRepository implements EthSigningRepository {
  private readonly blockStates = new Map<number, BlockStateRow>();
  private readonly attStates = new Map<number, AttestationStateRow>();
  private expected: string | null = null;

  constructor(private readonly hooks: EthSigningRepositoryHooks) {}

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
      this.hooks.onCacheMiss?.(missing.length);
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
