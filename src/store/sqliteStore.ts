import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StoreError, StoreErrorCode, toStoreError } from "./errors.js";
import { applyMigrations, loadMigrations } from "./migrate.js";
import type { Row, SqlTx, SqlValue, Store, TxOptions } from "./types.js";
import { sqliteU64 } from "./u64Codec.js";
import { type SyncFn, WalSync } from "./walSync.js";

export interface SqliteOptions {
  /** How long a transaction waits for another process's write lock before failing closed. */
  busyTimeoutMs?: number;
  /** fdatasync replacement for fault-injection tests. */
  syncFn?: SyncFn;
}

type Statement = Database.Statement<unknown[]>;

/** A prepared statement and, per `?` in it, which $n parameter it takes ($n may repeat or come out of order). */
interface Prepared {
  st: Statement;
  order: number[];
}

/**
 * SQLite store: WAL, one connection, transactions run one at a time. A write transaction resolves only
 * once its commit is on disk (survives power loss): `synchronous=NORMAL` plus an fdatasync of the WAL on
 * the thread pool (WalSync), which is `synchronous=FULL`'s guarantee without blocking the event loop.
 * The next transaction may begin while the previous one's sync runs. Writers use BEGIN IMMEDIATE so two
 * processes on one file serialise too.
 */
export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  schemaVersion = 0;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Prepared>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Write transactions committed by this connection (see SqlTx.changeToken). */
  private commits = 0;
  /** Serial of the running transaction and of the last one that committed a write (see changeToken). */
  private txSerial = 0;
  private lastCommitSerial = 0;
  /** Statements queued by runAtCommit in the running transaction (transactions never overlap here). */
  private readonly atCommit: string[] = [];
  private closed = false;
  /** null for :memory: (nothing to make durable) */
  private readonly wal: WalSync | null;

  private constructor(
    readonly url: string,
    path: string,
    opts: SqliteOptions,
  ) {
    if (path !== ":memory:") {
      // signing history is private: a new folder is 0700 and a new database 0600 (SQLite gives its
      // -wal and -shm files the database's mode)
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
    }
    this.db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
    this.db.defaultSafeIntegers(true);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    // SQLite writes its WAL beside the file it resolved (a symlinked database's real file): ask it which
    this.wal = path === ":memory:" ? null : new WalSync(`${mainFile(this.db)}-wal`, opts.syncFn);
  }

  static async open(url: string, path: string, opts: SqliteOptions = {}): Promise<SqliteStore> {
    let store: SqliteStore;
    try {
      store = new SqliteStore(url, path, opts);
    } catch (e) {
      throw toStoreError(e);
    }
    try {
      store.schemaVersion = await store.tx((tx) =>
        applyMigrations(tx, loadMigrations("sqlite"), async (sql) => {
          store.db.exec(sql);
        }),
      );
    } catch (e) {
      await store.close();
      throw toStoreError(e);
    }
    return store;
  }

  tx<T>(fn: (tx: SqlTx) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const run = async (): Promise<{ out: T; synced?: Promise<void> | undefined }> => {
      if (this.closed) throw new StoreError({ code: StoreErrorCode.Closed }, "store is closed");
      try {
        this.db.exec(opts.readOnly ? "BEGIN" : "BEGIN IMMEDIATE");
      } catch (e) {
        throw toStoreError(e);
      }
      try {
        if (opts.beginWith !== undefined) this.db.exec(opts.beginWith);
        opts.onBegun?.();
        this.atCommit.length = 0;
        const serial = ++this.txSerial;
        const out = await fn(this.txView);
        for (const sql of this.atCommit.splice(0)) this.db.exec(sql);
        this.db.exec("COMMIT");
        if (opts.readOnly) return { out };
        this.commits++;
        this.lastCommitSerial = serial;
        return { out, synced: this.wal?.durable() };
      } catch (e) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw e instanceof StoreError || !isDriverError(e) ? e : toStoreError(e);
      }
    };
    const committed = this.queue.then(run, run);
    // the queue moves on at COMMIT; the caller hears of success only once the commit is durable
    this.queue = committed.catch(() => undefined);
    return committed.then(async ({ out, synced }) => {
      await synced;
      return out;
    });
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoreError({ code: StoreErrorCode.Closed }, "store is closed");
    if (this.wal?.failure) throw this.wal.failure;
    this.stmt("SELECT 1").st.get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.wal?.durable().catch(() => undefined);
    this.wal?.close();
    this.db.close();
  }

  private readonly txView: SqlTx = {
    dialect: "sqlite",
    all: async <R extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> => {
      const { st, order } = this.stmt(sql);
      const args = order.map((i) => toSqlite(params[i] ?? null));
      if (st.reader) return st.all(...args) as R[];
      st.run(...args);
      return [];
    },
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<number> => {
      const { st, order } = this.stmt(sql);
      return st.run(...order.map((i) => toSqlite(params[i] ?? null))).changes;
    },
    u64: sqliteU64.enc,
    u64Nullable: (v) => (v === null ? null : sqliteU64.enc(v)),
    fromU64: sqliteU64.dec,
    fromU64Nullable: (v) => (v === null || v === undefined ? null : sqliteU64.dec(v)),
    runAtCommit: (sql) => {
      this.atCommit.push(sql);
    },
    changeToken: async () => {
      // data_version changes when another connection (process) commits; `commits` covers this one. The
      // serial names which transaction committed last: after a failed COMMIT, the next write of another
      // transaction must not look like the failed one's commit (its caller may cache what it wrote).
      const version = String(this.stmt("PRAGMA data_version").st.pluck().get());
      return {
        now: `${version}:${this.commits}:${this.lastCommitSerial}`,
        mine: `${version}:${this.commits + 1}:${this.txSerial}`,
      };
    },
  };

  private stmt(sql: string): Prepared {
    let p = this.statements.get(sql);
    if (p === undefined) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
        order.push(Number(n) - 1);
        return "?";
      });
      p = { st: this.db.prepare(text), order };
      this.statements.set(sql, p);
    }
    return p;
  }
}

function toSqlite(v: SqlValue): unknown {
  if (Array.isArray(v)) throw new TypeError("SQLite statements take no array parameters");
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

function isDriverError(e: unknown): boolean {
  return e instanceof Database.SqliteError;
}

/** The path SQLite opened for the main database (symlinks resolved), from PRAGMA database_list. */
function mainFile(db: Database.Database): string {
  const rows = db.pragma("database_list") as { name: string; file: string }[];
  const file = rows.find((r) => r.name === "main")?.file;
  if (file === undefined || file.length === 0) throw new Error("SQLite did not report the database file");
  return file;
}
