import { pgLiteral } from "../sqlLiteral.js";
import { bytesOrNull as root } from "../sqlValues.js";
import { TextFields } from "../textFields.js";
import type { SqlTx } from "../types.js";
import { u64Array } from "../u64Codec.js";
import type { BatchWrites, EthSigningRepository } from "./ethSigningRepository.js";
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
 * PostgreSQL: per key, one backward index probe for the highest target and its source, and the key's
 * settings (enabled, low watermarks, import_max_source) unless the key is marked `cached` and `token` is
 * the change token in this statement's snapshot (eth_state_token, migration 0015): the settings' lateral
 * join is gated on outer values alone, so PostgreSQL skips its two index probes. One row comes back:
 * `keys`, one text with an entry per key in the order of `ids`, `;`-separated, of `,`-separated fields
 * (hit, max target, top source, known, enabled, low source, low target, import max source; empty for
 * NULL), cheaper to build and to read than a row or a JSON array per key (TextFields); and the
 * snapshot's `token`. `ids` is an int[], `cached` a boolean[] (one per id) and `token` a uuid SQL
 * expression (exported for bench/protectionProbe.ts).
 */
export function pgAttestationStatesSql(ids: string, cached: string, token: string): string {
  const hit = `coalesce(k.cached AND t.token = ${token}, false)`;
  return `SELECT string_agg(concat(CASE WHEN ${hit} THEN 't' END, ',', m.target_epoch, ',', m.source_epoch,
      ',', s.known, ',', s.enabled, ',', s.low_source, ',', s.low_target, ',', s.import_max_source), ';' ORDER BY k.o) AS keys,
    min(t.token::text) AS token
  FROM unnest(${ids}, ${cached}) WITH ORDINALITY AS k(id, cached, o)
    LEFT JOIN eth_state_token t ON t.id = 1
    LEFT JOIN LATERAL (
      SELECT a.target_epoch, a.source_epoch FROM eth_signed_attestations a
      WHERE a.validator_id = k.id ORDER BY a.target_epoch DESC, a.source_epoch DESC LIMIT 1
    ) m ON true
    LEFT JOIN LATERAL (
      SELECT true AS known, v.enabled, x.low_source, x.low_target, x.import_max_source
      FROM eth_validators v LEFT JOIN eth_attestation_state x ON x.validator_id = v.id
      WHERE v.id = k.id AND NOT ${hit} LIMIT 1
    ) s ON true`;
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
 * Each key's settings are cached with the change token they were read under; the state read fetches them
 * again only for keys whose token is not the one in its snapshot (any other writer of them, in any
 * process, draws a new token in its own transaction: migration 0015's triggers). The records' maxima are
 * read every time.
 */
export class PostgresEthSigningRepository implements EthSigningRepository {
  private readonly settings = new Map<number, CachedSettings>();
  /** The change token the last state read found (null before the first, or with no token row). */
  private token: string | null = null;

  async begin(): Promise<void> {}

  // The state reads carry no parameters (ids as an array constant): the first one of a decision batch
  // travels with BEGIN and the key locks (beginWith) in one round trip, as the statement after the locks.
  async loadBlockStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, BlockStateRow>> {
    const rows = await tx.all(`${BLOCK_STATE_SQL} WHERE v.id = ANY(${pgLiteral.intArray(ids)})`);
    return new Map(rows.map((r) => [Number(r.id), blockState(tx, r)]));
  }

  async loadAttestationStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, AttestationStateRow>> {
    // Keys cached under the newest token this process has seen go out marked; a hit means exactly
    // these entries' settings hold in the statement's snapshot.
    const token = this.token;
    const sent: (CachedSettings | undefined)[] = new Array(ids.length);
    const cached = ids.map((id, i) => {
      const c = this.settings.get(id);
      if (c === undefined || c.token !== token) return false;
      sent[i] = c;
      return true;
    });
    const [row] = await tx.all(
      pgAttestationStatesSql(pgLiteral.intArray(ids), pgLiteral.boolArray(cached), pgLiteral.uuid(token)),
    );
    // no token row (the table was emptied by hand): nothing read now may be cached
    const now = typeof row?.token === "string" ? row.token : null;
    this.token = now;
    const f = new TextFields(typeof row?.keys === "string" ? row.keys : "");
    const out = new Map<number, AttestationStateRow>();
    for (let i = 0; i < ids.length && f.more(); i++, f.end()) {
      const id = ids[i]!;
      const hit = f.flag();
      const maxTarget = f.u64();
      const top = f.u64();
      const known = f.flag();
      const enabled = f.flag();
      const lowSource = f.u64();
      const lowTarget = f.u64();
      const importMaxSource = f.u64(true);
      let s: KeySettings | undefined;
      if (hit) s = sent[i];
      else if (known) {
        s = { enabled, lowSource, lowTarget, importMaxSource };
        if (now === null) this.settings.delete(id);
        else this.settings.set(id, { ...s, token: now });
      } else this.settings.delete(id); // not in eth_validators: an unknown key, decided as disabled
      if (s === undefined) continue;
      const imported = s.importMaxSource;
      out.set(id, {
        enabled: s.enabled,
        lowSource: s.lowSource,
        lowTarget: s.lowTarget,
        maxSource: top === null ? imported : imported === null || top > imported ? top : imported,
        maxTarget,
      });
    }
    f.expectEnd(ids.length);
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
