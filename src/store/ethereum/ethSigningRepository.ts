import type { SqlScalar, SqlTx } from "../types.js";
import type {
  AttestationHistoryQuery,
  AttestationStateRow,
  AttestationStateUpdate,
  BlockHistoryQuery,
  BlockStateRow,
  BlockStateUpdate,
  NewAttestation,
  NewBlock,
  StoredAttestation,
  StoredBlock,
} from "./types.js";

/**
 * The statements of one signing decision batch. SQLite runs one prepared statement per row (no round
 * trips to save); PostgreSQL runs one statement per step for the whole batch (arrays + unnest).
 */
export interface EthSigningRepository {
  loadBlockStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, BlockStateRow>>;
  loadAttestationStates(tx: SqlTx, ids: readonly number[]): Promise<Map<number, AttestationStateRow>>;
  loadBlocks(tx: SqlTx, queries: readonly BlockHistoryQuery[]): Promise<Map<number, StoredBlock[]>>;
  loadAttestations(tx: SqlTx, queries: readonly AttestationHistoryQuery[]): Promise<Map<number, StoredAttestation[]>>;
  insertBlocks(tx: SqlTx, rows: readonly NewBlock[]): Promise<void>;
  insertAttestations(tx: SqlTx, rows: readonly NewAttestation[]): Promise<void>;
  saveBlockStates(tx: SqlTx, rows: readonly BlockStateUpdate[]): Promise<void>;
  saveAttestationStates(tx: SqlTx, rows: readonly AttestationStateUpdate[]): Promise<void>;
}

export function ethSigningRepository(dialect: SqlTx["dialect"]): EthSigningRepository {
  return dialect === "sqlite" ? sqliteRepo : postgresRepo;
}

type Raw = Record<string, unknown>;

function root(v: unknown): Uint8Array | null {
  return v === null || v === undefined ? null : new Uint8Array(v as Buffer);
}

function blockState(tx: SqlTx, r: Raw): BlockStateRow {
  return {
    enabled: Boolean(r.enabled),
    lowSlot: tx.fromU64Nullable(r.low_slot),
    maxSlot: tx.fromU64Nullable(r.max_slot),
  };
}

function attestationState(tx: SqlTx, r: Raw): AttestationStateRow {
  return {
    enabled: Boolean(r.enabled),
    lowSource: tx.fromU64Nullable(r.low_source),
    lowTarget: tx.fromU64Nullable(r.low_target),
    maxSource: tx.fromU64Nullable(r.max_source),
    maxTarget: tx.fromU64Nullable(r.max_target),
  };
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

const BLOCK_STATE_SQL = `SELECT v.id, v.enabled, s.low_slot, s.max_slot
  FROM eth_validators v LEFT JOIN eth_block_state s ON s.validator_id = v.id`;
const ATT_STATE_SQL = `SELECT v.id, v.enabled, s.low_source, s.low_target, s.max_source, s.max_target
  FROM eth_validators v LEFT JOIN eth_attestation_state s ON s.validator_id = v.id`;

const sqliteRepo: EthSigningRepository = {
  async loadBlockStates(tx, ids) {
    const out = new Map<number, BlockStateRow>();
    for (const id of ids) {
      const [r] = await tx.all(`${BLOCK_STATE_SQL} WHERE v.id = $1`, [id]);
      if (r) out.set(id, blockState(tx, r));
    }
    return out;
  },

  async loadAttestationStates(tx, ids) {
    const out = new Map<number, AttestationStateRow>();
    for (const id of ids) {
      const [r] = await tx.all(`${ATT_STATE_SQL} WHERE v.id = $1`, [id]);
      if (r) out.set(id, attestationState(tx, r));
    }
    return out;
  },

  async loadBlocks(tx, queries) {
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
  },

  async loadAttestations(tx, queries) {
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
  },

  async insertBlocks(tx, rows) {
    for (const r of rows) {
      await tx.run("INSERT INTO eth_signed_blocks (validator_id, slot, signing_root) VALUES ($1, $2, $3)", [
        r.id,
        tx.u64(r.slot),
        r.signingRoot,
      ]);
    }
  },

  async insertAttestations(tx, rows) {
    for (const r of rows) {
      await tx.run(
        "INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root) VALUES ($1, $2, $3, $4)",
        [r.id, tx.u64(r.target), tx.u64(r.source), r.signingRoot],
      );
    }
  },

  async saveBlockStates(tx, rows) {
    for (const r of rows) {
      await tx.run(
        `INSERT INTO eth_block_state (validator_id, low_slot, max_slot) VALUES ($1, $2, $3)
         ON CONFLICT (validator_id) DO UPDATE SET low_slot = excluded.low_slot, max_slot = excluded.max_slot`,
        [r.id, tx.u64Nullable(r.lowSlot), tx.u64Nullable(r.maxSlot)],
      );
    }
  },

  async saveAttestationStates(tx, rows) {
    for (const r of rows) {
      await tx.run(
        `INSERT INTO eth_attestation_state (validator_id, low_source, low_target, max_source, max_target)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (validator_id) DO UPDATE SET low_source = excluded.low_source, low_target = excluded.low_target,
           max_source = excluded.max_source, max_target = excluded.max_target`,
        [
          r.id,
          tx.u64Nullable(r.lowSource),
          tx.u64Nullable(r.lowTarget),
          tx.u64Nullable(r.maxSource),
          tx.u64Nullable(r.maxTarget),
        ],
      );
    }
  },
};

const u64s = (tx: SqlTx, vs: readonly (bigint | null)[]): SqlScalar[] => vs.map((v) => tx.u64Nullable(v));

const postgresRepo: EthSigningRepository = {
  async loadBlockStates(tx, ids) {
    const rows = await tx.all(`${BLOCK_STATE_SQL} WHERE v.id = ANY($1::int[])`, [ids]);
    return new Map(rows.map((r) => [Number(r.id), blockState(tx, r)]));
  },

  async loadAttestationStates(tx, ids) {
    const rows = await tx.all(`${ATT_STATE_SQL} WHERE v.id = ANY($1::int[])`, [ids]);
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
      [ids, u64s(tx, slots)],
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
      [
        queries.map((q) => q.id),
        u64s(
          tx,
          queries.map((q) => q.minTarget),
        ),
        u64s(
          tx,
          queries.map((q) => q.minSource),
        ),
      ],
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

  async insertBlocks(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO eth_signed_blocks (validator_id, slot, signing_root)
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::bytea[])`,
      [
        rows.map((r) => r.id),
        u64s(
          tx,
          rows.map((r) => r.slot),
        ),
        rows.map((r) => r.signingRoot),
      ],
    );
  },

  async insertAttestations(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root)
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::bytea[])`,
      [
        rows.map((r) => r.id),
        u64s(
          tx,
          rows.map((r) => r.target),
        ),
        u64s(
          tx,
          rows.map((r) => r.source),
        ),
        rows.map((r) => r.signingRoot),
      ],
    );
  },

  async saveBlockStates(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO eth_block_state (validator_id, low_slot, max_slot)
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[])
       ON CONFLICT (validator_id) DO UPDATE SET low_slot = excluded.low_slot, max_slot = excluded.max_slot`,
      [
        rows.map((r) => r.id),
        u64s(
          tx,
          rows.map((r) => r.lowSlot),
        ),
        u64s(
          tx,
          rows.map((r) => r.maxSlot),
        ),
      ],
    );
  },

  async saveAttestationStates(tx, rows) {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO eth_attestation_state (validator_id, low_source, low_target, max_source, max_target)
       SELECT * FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[])
       ON CONFLICT (validator_id) DO UPDATE SET low_source = excluded.low_source, low_target = excluded.low_target,
         max_source = excluded.max_source, max_target = excluded.max_target`,
      [
        rows.map((r) => r.id),
        u64s(
          tx,
          rows.map((r) => r.lowSource),
        ),
        u64s(
          tx,
          rows.map((r) => r.lowTarget),
        ),
        u64s(
          tx,
          rows.map((r) => r.maxSource),
        ),
        u64s(
          tx,
          rows.map((r) => r.maxTarget),
        ),
      ],
    );
  },
};
