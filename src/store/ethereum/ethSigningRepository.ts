import type { SqlTx } from "../types.js";
import { PostgresEthSigningRepository } from "./ethSigningPostgres.js";
import { SqliteEthSigningRepository } from "./ethSigningSqlite.js";
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

export interface EthSigningRepositoryHooks {
  /** Keys whose cached state could not be used and were read from the store (a metric). */
  onCacheMiss?(keys: number): void;
}

/**
 * A repository for one decision engine (each keeps a cache of key state, so do not share one between
 * stores): SQLite caches whole key states, PostgreSQL key settings (ethSigningPostgres.ts).
 */
export function ethSigningRepository(
  dialect: SqlTx["dialect"],
  hooks: EthSigningRepositoryHooks = {},
): EthSigningRepository {
  return dialect === "sqlite" ? new SqliteEthSigningRepository(hooks) : new PostgresEthSigningRepository(hooks);
}
