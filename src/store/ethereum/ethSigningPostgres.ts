import { maxBigOrNull } from "../../util/u64.js";
import { pgLiteral } from "../sqlLiteral.js";
import { bytesOrNull as root } from "../sqlValues.js";
import { TextFields } from "../textFields.js";
import type { SqlTx } from "../types.js";
import { u64Array } from "../u64Codec.js";
import type { BatchWrites, EthSigningRepository, EthSigningRepositoryHooks } from "./ethSigningRepository.js";
import { BLOCK_STATE_SQL, blockState, pushTo } from "./ethSigningRows.js";
import type {
  AttestationHistoryQuery,
  AttestationStateRow,
  BlockHistoryQuery,
  BlockStateRow,
  StoredAttestation,
  StoredBlock,
} from "./types.js";

/**
 * PostgreSQL, the state read every batch makes: per key (in the order of `ids`, an int[] SQL expression)
 * one backward index probe for the highest target and the source at it, and the change token of the
 * snapshot (eth_state_token, migration 0015). One row: `keys`, an entry per key, `;`-separated, of
 * `max target,top source` (empty for NULL), read by TextFields, cheaper to build and to read than a row
 * per key; and `token`. Exported for bench/protectionProbe.ts.
 */
export function pgAttestationTopsSql(ids: string): string {
  return `SELECT string_agg(concat(m.target_epoch, ',', m.source_epoch), ';' ORDER BY k.o) AS keys,
    (SELECT token::text FROM eth_state_token WHERE id = 1) AS token
  FROM unnest(${ids}) WITH ORDINALITY AS k(id, o)
    LEFT JOIN LATERAL (
      SELECT a.target_epoch, a.source_epoch FROM eth_signed_attestations a
      WHERE a.validator_id = k.id ORDER BY a.target_epoch DESC, a.source_epoch DESC LIMIT 1
    ) m ON true`;
}

/**
 * PostgreSQL, for keys whose cached settings are missing or older than the token: per key (in order)
 * `known,enabled,low source,low target,import max source` (known = f: no such key), and the token.
 */
function pgAttestationSettingsSql(ids: string): string {
  return `SELECT string_agg(concat(v.id IS NOT NULL, ',', v.enabled, ',', x.low_source, ',', x.low_target, ',',
      x.import_max_source), ';' ORDER BY k.o) AS keys,
    (SELECT token::text FROM eth_state_token WHERE id = 1) AS token
  FROM unnest(${ids}) WITH ORDINALITY AS k(id, o)
    LEFT JOIN eth_validators v ON v.id = k.id
    LEFT JOIN eth_attestation_state x ON x.validator_id = k.id`;
}

/**
 * PostgreSQL: every write of a batch as one statement (data-modifying CTEs all run), or null when there is
 * nothing to write. Each column is one array constant, cheaper to parse than an element-wise ARRAY[]; an
 * attestation batch's roots go as one packed bytea (block roots as hex text). Exported for
 * bench/protectionProbe.ts.
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
    const roots = w.attestations.map((r) => r.signingRoot);
    const cols = `${L.intArray(w.attestations.map((r) => r.id))},
           ${L.numericArray(w.attestations.map((r) => r.target))}, ${L.numericArray(w.attestations.map((r) => r.source))}`;
    // Roots of 32 bytes each as one bytea, cut per row: one hex string to build and to decode, not one
    // per row. A batch with an unknown (NULL) root sends them one by one.
    const packed = L.packed32(roots);
    parts.push(
      packed === null
        ? `a AS (INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root)
         SELECT i, t, s, decode(r, 'hex') FROM unnest(${cols}, ${L.hexArray(roots)}) AS u(i, t, s, r))`
        : `a AS (INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root)
         SELECT i, t, s, substring(p.b FROM o::int * 32 - 31 FOR 32)
         FROM unnest(${cols}) WITH ORDINALITY AS u(i, t, s, o), (SELECT ${packed} AS b) p)`,
    );
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

/** The change token an answer carries (a uuid), or null. */
function tokenOf(row: Record<string, unknown> | undefined): string | null {
  return typeof row?.token === "string" ? row.token : null;
}

/** What a decision reads of a key besides its records. */
interface KeySettings {
  enabled: boolean;
  lowSource: bigint | null;
  lowTarget: bigint | null;
  importMaxSource: bigint | null;
}

/** A key's settings as last read, with the change token they were read under (eth_state_token). */
interface CachedSettings extends KeySettings {
  token: string;
}

/**
 * PostgreSQL: one statement per step for the whole batch (arrays + unnest); all writes in one statement.
 * Each key's settings are cached with the change token they were read under, and read again only when
 * the token of the batch's snapshot is another (every writer of them, in any process, draws a new token
 * in its own transaction: migration 0015's triggers). The records' maxima are read every time.
 */
export class PostgresEthSigningRepository implements EthSigningRepository {
  private readonly settings = new Map<number, CachedSettings>();

  constructor(private readonly hooks: EthSigningRepositoryHooks) {}

  async begin(): Promise<void> {}

  // The state reads carry no parameters (ids as an array constant): the first one of a decision batch
  // travels with BEGIN and the key locks (beginWith) in one round trip, as the statement after the locks.
  async loadBlockStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, BlockStateRow>> {
    const rows = await tx.all(`${BLOCK_STATE_SQL} WHERE v.id = ANY(${pgLiteral.intArray(ids)})`);
    return new Map(rows.map((r) => [Number(r.id), blockState(tx, r)]));
  }

  async loadAttestationStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, AttestationStateRow>> {
    const [tops] = await tx.all(pgAttestationTopsSql(pgLiteral.intArray(ids)));
    const token = tokenOf(tops);
    const maxTarget: (bigint | null)[] = new Array(ids.length);
    const topSource: (bigint | null)[] = new Array(ids.length);
    const t = new TextFields(typeof tops?.keys === "string" ? tops.keys : "");
    for (let i = 0; i < ids.length && t.more(); i++, t.end()) {
      maxTarget[i] = t.u64();
      topSource[i] = t.u64(true);
    }
    t.expectEnd(ids.length);

    // A key's cached settings hold if they were read under the token of this snapshot: no writer of
    // any key's settings committed since. The others are read now, in a second statement: still under
    // this batch's key locks, which every writer of a key's settings takes too (enable/disable, pruning;
    // an import holds the global import lock against every batch), so both reads see one state.
    const settings: (KeySettings | undefined)[] = new Array(ids.length);
    const missing: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const c = this.settings.get(ids[i]!);
      if (c !== undefined && token !== null && c.token === token) settings[i] = c;
      else missing.push(i);
    }
    if (missing.length > 0) {
      this.hooks.onCacheMiss?.(missing.length);
      const [row] = await tx.all(pgAttestationSettingsSql(pgLiteral.intArray(missing.map((i) => ids[i]!))));
      // no token row (the table was emptied by hand): nothing read now may be cached
      const now = tokenOf(row);
      const f = new TextFields(typeof row?.keys === "string" ? row.keys : "");
      for (let j = 0; j < missing.length && f.more(); j++, f.end()) {
        const i = missing[j]!;
        const id = ids[i]!;
        const known = f.flag();
        const s = { enabled: f.flag(), lowSource: f.u64(), lowTarget: f.u64(), importMaxSource: f.u64(true) };
        if (!known)
          this.settings.delete(id); // not in eth_validators: an unknown key, decided as disabled
        else {
          settings[i] = s;
          if (now === null) this.settings.delete(id);
          else this.settings.set(id, { ...s, token: now });
        }
      }
      f.expectEnd(missing.length);
    }

    const out = new Map<number, AttestationStateRow>();
    for (let i = 0; i < ids.length; i++) {
      const s = settings[i];
      if (s === undefined) continue;
      out.set(ids[i]!, {
        enabled: s.enabled,
        lowSource: s.lowSource,
        lowTarget: s.lowTarget,
        maxSource: maxBigOrNull(topSource[i] ?? null, s.importMaxSource),
        maxTarget: maxTarget[i] ?? null,
      });
    }
    return out;
  }

  async loadBlocks(tx: SqlTx, queries: readonly BlockHistoryQuery[]): Promise<Map<number, StoredBlock[]>> {
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
  }

  async loadAttestations(
    tx: SqlTx,
    queries: readonly AttestationHistoryQuery[],
  ): Promise<Map<number, StoredAttestation[]>> {
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
  }

  async write(tx: SqlTx, w: BatchWrites): Promise<void> {
    // sent with COMMIT: no round trip of its own
    const sql = pgBatchWriteSql(w);
    if (sql !== null) tx.runAtCommit(sql);
  }
}
