export type Dialect = "sqlite" | "postgres";

/** A value as the database holds it: drivers take and give these. */
export type SqlScalar = string | number | bigint | boolean | Uint8Array | null;
/** Arrays are for PostgreSQL only (unnest / ANY), where a whole batch goes in one statement. */
export type SqlValue = SqlScalar | readonly SqlScalar[];
export type Row = Record<string, unknown>;

/** Statements inside one transaction. SQL uses PostgreSQL placeholders ($1, $2 …) for both dialects. */
export interface SqlTx {
  readonly dialect: Dialect;
  all<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Encodes a u64 so that the database orders it correctly (see u64Codec.ts). */
  u64(v: bigint): SqlScalar;
  u64Nullable(v: bigint | null): SqlScalar;
  fromU64(v: unknown): bigint;
  fromU64Nullable(v: unknown): bigint | null;
  /**
   * SQLite: a token that changes whenever a transaction other than the caller's own chain may have
   * written (another process's commit, or another write transaction of this process), so that state
   * cached in memory is used only while it cannot be stale. `mine` is the token to expect in the next
   * transaction if this one commits. PostgreSQL: null (other processes write without notice).
   */
  changeToken(): Promise<{ now: string; mine: string } | null>;
  /**
   * Queues a statement to run as the last one of the transaction. PostgreSQL sends it in the same round
   * trip as COMMIT, so it must carry no parameters: build it only from values that are safe as literals
   * (see sqlLiteral.ts). SQLite runs it right before COMMIT. A failure fails the whole transaction.
   */
  runAtCommit(sql: string): void;
}

export interface TxOptions {
  /** Read-only transactions do not take SQLite's write lock. */
  readOnly?: boolean;
  /**
   * A parameter-free statement that runs first. PostgreSQL sends it with BEGIN, in the same round trip
   * as the transaction's first statement when that one has no parameters (a batch's key locks, then its
   * state read as a statement of its own: one round trip, and the read's snapshot follows the locks).
   */
  beginWith?: string;
  /**
   * Called once the transaction holds what `beginWith` takes (its statement has returned); not called
   * when the transaction fails before that. Group commit starts the next batch then: its locks queue
   * behind this one's, so PostgreSQL keeps the per-key order while the two batches overlap.
   */
  onBegun?: () => void;
}

export interface StoreInfo {
  dialect: Dialect;
  /** URL with any password removed (safe to log). */
  url: string;
  schemaVersion: number;
}

export interface Store extends StoreInfo {
  tx<T>(fn: (tx: SqlTx) => Promise<T>, opts?: TxOptions): Promise<T>;
  /** Cheap reachability check for /healthcheck. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
