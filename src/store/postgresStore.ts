import pg from "pg";
import { StoreError, StoreErrorCode, toStoreError } from "./errors.js";
import { GlobalLockId, LockClass } from "./locks.js";
import { applyMigrations, loadMigrations } from "./migrate.js";
import { assertDurableSettings, beginDurably, type DbDurability, DEFAULT_DB_DURABILITY } from "./pgDurability.js";
import type { Row, SqlTx, SqlValue, Store, TxOptions } from "./types.js";
import { postgresU64 } from "./u64Codec.js";

export interface PostgresOptions {
  /** Pool size per process. */
  maxConnections?: number;
  /** A decision waiting longer than this for a key lock fails closed instead of hanging. */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** How far a commit must reach before it counts (pgDurability.ts). */
  durability?: DbDurability;
}

/**
 * PostgreSQL store: pooled connections, READ COMMITTED transactions; per-key serialisation is done by
 * callers with pg_advisory_xact_lock (released at COMMIT/ROLLBACK, so a crashed process leaks none).
 */
export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  schemaVersion = 0;
  private readonly pool: pg.Pool;
  private readonly begin: string;
  private closed = false;

  private constructor(
    readonly url: string,
    connectionString: string,
    opts: PostgresOptions,
  ) {
    this.begin = beginDurably(opts.durability ?? DEFAULT_DB_DURABILITY);
    this.pool = new pg.Pool({
      connectionString,
      max: opts.maxConnections ?? 10,
      lock_timeout: opts.lockTimeoutMs ?? 10_000,
      statement_timeout: opts.statementTimeoutMs ?? 60_000,
      connectionTimeoutMillis: 10_000,
      application_name: "slashguard",
    });
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    this.pool.on("error", () => {});
  }

  static async open(url: string, connectionString: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, connectionString, opts);
    try {
      store.schemaVersion = await store.tx(async (tx) => {
        await tx.run("SELECT pg_advisory_xact_lock($1, $2)", [LockClass.Global, GlobalLockId.Migrate]);
        return applyMigrations(tx, loadMigrations("postgres"), async (sql) => {
          await tx.run(sql);
        });
      });
    } catch (e) {
      await store.close();
      throw toStoreError(e);
    }
    return store;
  }

  async tx<T>(fn: (tx: SqlTx) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    if (this.closed) throw new StoreError({ code: StoreErrorCode.Closed }, "store is closed");
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw toStoreError(e);
    }
    let broken = false;
    // A checked-out client is outside the pool's idle error listener: a connection dropped while we hold
    // it ('Connection terminated unexpectedly', a FATAL from the server) would be an unhandled 'error'
    // event and crash the process. It fails this transaction instead (the next query rejects).
    let connectionError: unknown = null;
    const onError = (e: unknown): void => {
      connectionError ??= e;
      broken = true;
    };
    client.on("error", onError);
    const atCommit: string[] = [];
    try {
      // simple-protocol multi-statement queries: one round trip for BEGIN + the durability pin and check
      // + the first statement, and for the deferred statements + COMMIT
      const begin = opts.readOnly ? "BEGIN READ ONLY" : this.begin;
      const started = await client.query(opts.beginWith === undefined ? begin : `${begin}; ${opts.beginWith}`);
      if (!opts.readOnly) assertDurableSettings(started);
      const out = await fn(txView(client, atCommit));
      await client.query([...atCommit, "COMMIT"].join("; "));
      return out;
    } catch (e) {
      if (!broken) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true;
        }
      }
      if (connectionError !== null) throw toStoreError(connectionError);
      throw isDriverError(e) ? toStoreError(e) : e;
    } finally {
      client.off("error", onError);
      // a broken client is destroyed, not returned; keep a listener so a late event cannot crash us
      if (broken) client.on("error", () => {});
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.pool.query("SELECT 1");
    } catch (e) {
      throw toStoreError(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function txView(client: pg.PoolClient, atCommit: string[]): SqlTx {
  return {
    dialect: "postgres",
    all: async <R extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> => {
      const res = await client.query(sql, params.map(toPg));
      return res.rows as R[];
    },
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<number> => {
      const res = await client.query(sql, params.length === 0 ? undefined : params.map(toPg));
      return res.rowCount ?? 0;
    },
    u64: postgresU64.enc,
    u64Nullable: (v) => (v === null ? null : postgresU64.enc(v)),
    fromU64: postgresU64.dec,
    fromU64Nullable: (v) => (v === null || v === undefined ? null : postgresU64.dec(v)),
    changeToken: async () => null,
    runAtCommit: (sql) => {
      atCommit.push(sql);
    },
  };
}

function toPg(v: SqlValue): unknown {
  if (Array.isArray(v)) return v.map(toPg);
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

function isDriverError(e: unknown): boolean {
  return e instanceof Error && ("severity" in e || "errno" in e || (e as { code?: unknown }).code === "ECONNREFUSED");
}
