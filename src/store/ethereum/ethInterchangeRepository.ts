import type { SqlScalar, SqlTx } from "../types.js";

/** A staged interchange record; `entry` is its index in the file's `data` array. */
export interface StagedBlock {
  entry: number;
  slot: bigint;
  signingRoot: Uint8Array | null;
}

export interface StagedAttestation {
  entry: number;
  source: bigint;
  target: bigint;
  signingRoot: Uint8Array | null;
}

/** Roots of several records at one place: the common root if all agree, else NULL (unknown, conflicts with all). */
function mergedRoot(tx: SqlTx, col: string): string {
  const pick = tx.dialect === "postgres" ? `(array_agg(${col}))[1]` : `min(${col})`;
  return `CASE WHEN count(*) = count(${col}) AND count(DISTINCT ${col}) = 1 THEN ${pick} ELSE NULL END`;
}

const KEEP_OR_NULL = (table: string): string =>
  `CASE WHEN ${table}.signing_root = excluded.signing_root THEN ${table}.signing_root ELSE NULL END`;

/** Raise-only watermark: the larger of the stored value and the imported minimum. */
const RAISE = (table: string, col: string): string =>
  `CASE WHEN ${table}.${col} IS NULL OR excluded.${col} > ${table}.${col} THEN excluded.${col} ELSE ${table}.${col} END`;

/**
 * Interchange import as set operations over staging tables, inside the caller's transaction: the file
 * is streamed into the staging tables, then merged in a few statements. Merging never lowers
 * protection: a record that meets a different one at the same slot or target keeps an unknown root.
 */
export const ethInterchangeRepository = {
  async createStaging(tx: SqlTx): Promise<void> {
    if (tx.dialect === "postgres") {
      // Big set operations follow: sort in memory rather than on disk, and skip JIT compilation (it costs
      // more than it saves on statements that run once).
      await tx.run("SET LOCAL work_mem = '256MB'");
      await tx.run("SET LOCAL jit = off");
    }
    const onCommit = tx.dialect === "postgres" ? " ON COMMIT DROP" : "";
    const u64 = tx.dialect === "postgres" ? "NUMERIC(20)" : "INTEGER";
    const blob = tx.dialect === "postgres" ? "BYTEA" : "BLOB";
    for (const t of ["sg_import_entries", "sg_import_blocks", "sg_import_atts"])
      await tx.run(`DROP TABLE IF EXISTS ${t}`);
    await tx.run(`CREATE TEMP TABLE sg_import_entries (entry INTEGER PRIMARY KEY, pubkey ${blob} NOT NULL)${onCommit}`);
    await tx.run(
      `CREATE TEMP TABLE sg_import_blocks (entry INTEGER NOT NULL, slot ${u64} NOT NULL, root ${blob})${onCommit}`,
    );
    await tx.run(
      `CREATE TEMP TABLE sg_import_atts (entry INTEGER NOT NULL, source ${u64} NOT NULL, target ${u64} NOT NULL, root ${blob})${onCommit}`,
    );
  },

  async dropStaging(tx: SqlTx): Promise<void> {
    if (tx.dialect === "postgres") return; // ON COMMIT DROP
    for (const t of ["sg_import_entries", "sg_import_blocks", "sg_import_atts"])
      await tx.run(`DROP TABLE IF EXISTS ${t}`);
  },

  async stageEntries(tx: SqlTx, rows: readonly { entry: number; pubkey: Uint8Array }[]): Promise<void> {
    if (rows.length === 0) return;
    if (tx.dialect === "postgres") {
      await tx.run("INSERT INTO sg_import_entries SELECT * FROM unnest($1::int[], $2::bytea[])", [
        rows.map((r) => r.entry),
        rows.map((r) => r.pubkey),
      ]);
      return;
    }
    for (const r of rows) await tx.run("INSERT INTO sg_import_entries VALUES ($1, $2)", [r.entry, r.pubkey]);
  },

  async stageBlocks(tx: SqlTx, rows: readonly StagedBlock[]): Promise<void> {
    if (rows.length === 0) return;
    if (tx.dialect === "postgres") {
      await tx.run("INSERT INTO sg_import_blocks SELECT * FROM unnest($1::int[], $2::numeric[], $3::bytea[])", [
        rows.map((r) => r.entry),
        rows.map((r) => tx.u64(r.slot)),
        rows.map((r) => r.signingRoot),
      ]);
      return;
    }
    for (const r of rows)
      await tx.run("INSERT INTO sg_import_blocks VALUES ($1, $2, $3)", [r.entry, tx.u64(r.slot), r.signingRoot]);
  },

  async stageAttestations(tx: SqlTx, rows: readonly StagedAttestation[]): Promise<void> {
    if (rows.length === 0) return;
    if (tx.dialect === "postgres") {
      await tx.run(
        "INSERT INTO sg_import_atts SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::bytea[])",
        [
          rows.map((r) => r.entry),
          rows.map((r) => tx.u64(r.source)) as SqlScalar[],
          rows.map((r) => tx.u64(r.target)) as SqlScalar[],
          rows.map((r) => r.signingRoot),
        ],
      );
      return;
    }
    for (const r of rows) {
      await tx.run("INSERT INTO sg_import_atts VALUES ($1, $2, $3, $4)", [
        r.entry,
        tx.u64(r.source),
        tx.u64(r.target),
        r.signingRoot,
      ]);
    }
  },

  /** Registers every staged public key (in key order: no deadlock with another process doing the same). */
  async registerStagedValidators(tx: SqlTx): Promise<number> {
    await tx.run(
      `INSERT INTO eth_validators (pubkey) SELECT DISTINCT pubkey FROM sg_import_entries WHERE true ORDER BY pubkey
       ON CONFLICT (pubkey) DO NOTHING`,
    );
    const [r] = await tx.all("SELECT count(DISTINCT pubkey) AS n FROM sg_import_entries");
    return Number(r?.n ?? 0);
  },

  async mergeBlocks(tx: SqlTx): Promise<number> {
    await tx.run(
      `INSERT INTO eth_signed_blocks (validator_id, slot, signing_root)
       SELECT v.id, b.slot, ${mergedRoot(tx, "b.root")}
       FROM sg_import_blocks b
         JOIN sg_import_entries e ON e.entry = b.entry
         JOIN eth_validators v ON v.pubkey = e.pubkey
       WHERE true
       GROUP BY v.id, b.slot
       ON CONFLICT (validator_id, slot) DO UPDATE SET signing_root = ${KEEP_OR_NULL("eth_signed_blocks")}`,
    );
    await tx.run(
      `INSERT INTO eth_block_state (validator_id, low_slot)
       SELECT v.id, min(b.slot)
       FROM sg_import_blocks b
         JOIN sg_import_entries e ON e.entry = b.entry
         JOIN eth_validators v ON v.pubkey = e.pubkey
       WHERE true
       GROUP BY v.id
       ON CONFLICT (validator_id) DO UPDATE SET low_slot = ${RAISE("eth_block_state", "low_slot")}`,
    );
    const [r] = await tx.all("SELECT count(*) AS n FROM sg_import_blocks");
    return Number(r?.n ?? 0);
  },

  async mergeAttestations(tx: SqlTx): Promise<number> {
    // One row per (validator, target, source). At a target the row that signing sees as "the" vote
    // (extra = false) is the stored one if any, else the lowest staged source (rn = 1); others are extra rows.
    await tx.run(
      `WITH c AS (
         SELECT v.id AS vid, a.target AS t, a.source AS s, ${mergedRoot(tx, "a.root")} AS r,
           row_number() OVER (PARTITION BY v.id, a.target ORDER BY a.source) AS rn
         FROM sg_import_atts a
           JOIN sg_import_entries e ON e.entry = a.entry
           JOIN eth_validators v ON v.pubkey = e.pubkey
         GROUP BY v.id, a.target, a.source
       )
       INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root, extra)
       SELECT c.vid, c.t, c.s, c.r, COALESCE(p.source_epoch <> c.s, c.rn > 1)
       FROM c LEFT JOIN eth_signed_attestations p ON p.validator_id = c.vid AND p.target_epoch = c.t AND NOT p.extra
       WHERE true
       ON CONFLICT (validator_id, target_epoch, source_epoch) DO UPDATE
         SET signing_root = ${KEEP_OR_NULL("eth_signed_attestations")}`,
    );
    await tx.run(
      `INSERT INTO eth_attestation_state (validator_id, low_source, low_target, import_max_source)
       SELECT v.id, min(a.source), min(a.target),
         (SELECT max(x.source_epoch) FROM eth_signed_attestations x WHERE x.validator_id = v.id)
       FROM sg_import_atts a
         JOIN sg_import_entries e ON e.entry = a.entry
         JOIN eth_validators v ON v.pubkey = e.pubkey
       WHERE true
       GROUP BY v.id
       ON CONFLICT (validator_id) DO UPDATE SET
         low_source = ${RAISE("eth_attestation_state", "low_source")},
         low_target = ${RAISE("eth_attestation_state", "low_target")},
         import_max_source = excluded.import_max_source`,
    );
    const [r] = await tx.all("SELECT count(*) AS n FROM sg_import_atts");
    return Number(r?.n ?? 0);
  },
};
