import pg from "pg";
import { StoreError, StoreErrorCode, toStoreError } from "./errors.js";
import { GlobalLockId, LockClass } from "./locks.js";
import { applyMigrations, loadMigrations } from "./migrate.js";
import {
  assertDurableSettings,
  assertReplicated,
  beginDurably,
  classifyReplication,
  type DbDurability,
  DEFAULT_DB_DURABILITY,
  REPLICATION_STATE_SQL,
  type ReplicationState,
} from "./pgDurability.js";
import { type PgHost, type PgHostList, parsePgHosts } from "./pgHosts.js";
import { isWritable, locatePrimary, lostPrimary, notWritable, WRITABLE_SQL } from "./pgPrimary.js";
import type { Row, SqlTx, SqlValue, Store, TxOptions } from "./types.js";
import { postgresU64 } from "./u64Codec.js";

const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;

export interface PostgresOptions {
  /** Pool size per process. */
  maxConnections?: number;
  /** A decision waiting longer than this for a key lock fails closed instead of hanging. */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** How far a commit must reach before it counts (pgDurability.ts). */
  durability?: DbDurability;
  /**
   * Called with the replication state read at open, after each reconnect, on refreshReplication() and
   * whenever a `replicated` transaction finds the state changed (logs, metric, alert).
   */
  onReplication?: (state: ReplicationState) => void;
  /** Called when the store moved its connections to another host (a failover was followed). */
  onPrimary?: (host: string) => void;
}

/**
 * PostgreSQL store: pooled connections, READ COMMITTED transactions; per-key serialisation is done by
 * callers with pg_advisory_xact_lock (released at COMMIT/ROLLBACK, so a crashed process leaks none).
 */
export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  schemaVersion = 0;
  readonly durability: DbDurability;
  /** The last replication state read (null before open finished). */
  replication: ReplicationState | null = null;
  /** host:port of the server the pool writes to (multi-host URLs), for status and logs. */
  primary: string | null = null;
  private pool: pg.Pool;
  private readonly begin: string;
  private readonly hosts: PgHostList;
  /** A connection error or a read-only server was seen: find the primary before the next transaction. */
  private stale = false;
  private reconnecting: Promise<void> | null = null;
  private closed = false;

  private constructor(
    readonly url: string,
    private readonly connectionString: string,
    private readonly opts: PostgresOptions,
  ) {
    this.durability = opts.durability ?? DEFAULT_DB_DURABILITY;
    this.begin = beginDurably(this.durability);
    this.hosts = parsePgHosts(connectionString);
    this.pool = this.newPool(this.hosts.hosts[0] ?? null);
  }

  /** A pool bound to one server; for a multi-host URL every new connection checks that it still accepts writes. */
  private newPool(host: PgHost | null): pg.Pool {
    const multi = host !== null;
    const pool = new pg.Pool({
      connectionString: multi ? this.hosts.singleHostUrl(host) : this.connectionString,
      max: this.opts.maxConnections ?? 10,
      lock_timeout: this.opts.lockTimeoutMs ?? 10_000,
      statement_timeout: this.opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      connectionTimeoutMillis: 10_000,
      application_name: "slashguard",
      ...(multi
        ? {
            onConnect: async (c: pg.ClientBase) => {
              if (!isWritable((await c.query(WRITABLE_SQL)).rows[0])) throw notWritable(`${host.host}:${host.port}`);
            },
          }
        : {}),
    });
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    pool.on("error", () => {
      this.stale = true;
    });
    if (multi) this.primary = `${host.host}:${host.port}`;
    return pool;
  }

  static async open(url: string, connectionString: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, connectionString, opts);
    try {
      if (store.hosts.hosts.length > 0) await store.follow();
      const state = await store.refreshReplication();
      assertReplicated(store.durability, state);
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

  /**
   * Points the pool at the host that now accepts writes (multi-host URLs) and reads the replication
   * state again; one at a time. Transactions that failed before it already failed closed.
   */
  private async reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      try {
        if (this.hosts.hosts.length > 0) await this.follow();
        await this.refreshReplication();
        this.stale = false;
      } finally {
        this.reconnecting = null;
      }
    })();
    return this.reconnecting;
  }

  private async follow(): Promise<void> {
    const host = await locatePrimary(this.hosts, 5_000);
    const name = `${host.host}:${host.port}`;
    if (name === this.primary && !this.stale) return;
    const old = this.pool;
    this.pool = this.newPool(host);
    // clients still checked out of the old pool finish (or fail) on their own; end() waits for them
    if (old !== this.pool) void old.end().catch(() => {});
    this.opts.onPrimary?.(name);
  }

  /** Reads synchronous_commit, synchronous_standby_names and pg_stat_replication, and reports them. */
  async refreshReplication(): Promise<ReplicationState> {
    let row: Record<string, unknown> | undefined;
    try {
      row = (await this.pool.query(REPLICATION_STATE_SQL)).rows[0];
    } catch (e) {
      if (lostPrimary(e)) this.stale = true;
      throw toStoreError(e);
    }
    const state = classifyReplication(row ?? {});
    this.noteReplication(state);
    return state;
  }

  private noteReplication(state: ReplicationState): void {
    const prev = this.replication;
    this.replication = state;
    if (prev === null || prev.setup !== state.setup || prev.syncStandbys !== state.syncStandbys)
      this.opts.onReplication?.(state);
  }

  async tx<T>(fn: (tx: SqlTx) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    if (this.closed) throw new StoreError({ code: StoreErrorCode.Closed }, "store is closed");
    let client: pg.PoolClient;
    try {
      if (this.stale) await this.reconnect();
      client = await this.pool.connect();
    } catch (e) {
      if (lostPrimary(e)) this.stale = true;
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
      this.stale = true; // look for the primary again before the next transaction
    };
    client.on("error", onError);
    const atCommit: string[] = [];
    const replicated = this.durability === "replicated" && !opts.readOnly;
    // simple-protocol multi-statement queries: one round trip for BEGIN + the durability pin and check
    // + the first statement, and for the deferred statements + COMMIT
    const begin = opts.readOnly ? "BEGIN READ ONLY" : this.begin;
    const checkStarted = (started: pg.QueryResult | pg.QueryResult[]): void => {
      if (opts.readOnly) return;
      try {
        const state = assertDurableSettings(started, this.durability);
        if (state !== null) this.noteReplication(state);
      } catch (e) {
        if (e instanceof StoreError && e.type.code === StoreErrorCode.NotReplicated)
          this.noteReplication(classifyReplication(Array.isArray(started) ? (started[2]?.rows[0] ?? {}) : {}));
        throw e;
      }
    };
    // With beginWith (a decision batch's key locks), BEGIN waits for the transaction's first statement
    // and travels with it when that one has no parameters (pipelined: lock, then read, one round trip).
    const lead: Lead | null =
      opts.beginWith === undefined
        ? null
        : { sql: `${begin}; ${opts.beginWith}`, failed: null, onSent: opts.onBegun ?? null };
    try {
      if (lead === null) {
        checkStarted(await client.query(begin));
        opts.onBegun?.();
      }
      const out = await fn(txView(client, atCommit, lead, checkStarted));
      if (lead !== null) await flushLead(client, lead, checkStarted);
      await commit(client, atCommit, replicated, this.opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
      return out;
    } catch (e) {
      // a COMMIT that did not come back confirmed may still be running: never send more on that connection
      if (isCommitNotConfirmed(e)) broken = true;
      if (!broken) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true;
        }
      }
      if (lostPrimary(e) || connectionError !== null) this.stale = true;
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

/** The COMMIT of a `replicated` transaction did not come back confirmed by a synchronous standby. */
function commitNotConfirmed(why: string): StoreError {
  return new StoreError(
    { code: StoreErrorCode.NotReplicated, setup: "commit_not_confirmed", synchronousStandbyNames: "", syncStandbys: 0 },
    `the commit was not confirmed by a synchronous standby (${why}): nothing is released`,
  );
}

function isCommitNotConfirmed(e: unknown): boolean {
  return (
    e instanceof StoreError && e.type.code === StoreErrorCode.NotReplicated && e.type.setup === "commit_not_confirmed"
  );
}

/**
 * COMMIT (with the deferred statements). At `replicated`, the COMMIT waits for the synchronous standby,
 * and statement_timeout does not cover that wait (PostgreSQL disarms it before committing): a standby
 * that vanished after BEGIN's check would hold the batch for ever. So the COMMIT gets a client-side
 * deadline; past it, or on a WARNING (the wait was cancelled and PostgreSQL committed locally only), the
 * transaction counts as failed and nothing is released. The connection is then dropped (its backend may
 * still be waiting; it finishes when a standby confirms or the setting is cleared).
 */
async function commit(
  client: pg.PoolClient,
  atCommit: string[],
  replicated: boolean,
  deadlineMs: number,
): Promise<void> {
  const text = [...atCommit, "COMMIT"].join("; ");
  if (!replicated) {
    await client.query(text);
    return;
  }
  let warned = false;
  const onNotice = (n: { severity?: string | undefined }): void => {
    if (n.severity === "WARNING") warned = true;
  };
  client.on("notice", onNotice);
  try {
    // query_timeout is node-postgres's per-query read deadline (missing from its type declarations)
    const query: pg.QueryConfig & { query_timeout: number } = { text, query_timeout: deadlineMs };
    await client.query(query);
  } catch (e) {
    if (e instanceof Error && e.message === "Query read timeout") throw commitNotConfirmed("no answer in time");
    throw e;
  } finally {
    client.off("notice", onNotice);
  }
  if (warned) throw commitNotConfirmed("its wait was cancelled");
}

/** BEGIN and the beginWith statement while they have not been sent yet; a failed check, once sent. */
interface Lead {
  sql: string | null;
  failed: unknown;
  /** TxOptions.onBegun, until it is called (once the lead statement has returned). */
  onSent: (() => void) | null;
}

type CheckStarted = (started: pg.QueryResult | pg.QueryResult[]) => void;

/**
 * Sends the pending BEGIN (+ beginWith) on its own, if it has not travelled with a statement yet. A
 * failed settings check fails the transaction for good, even if the caller swallowed it: no COMMIT.
 */
async function flushLead(client: pg.PoolClient, lead: Lead, check: CheckStarted): Promise<void> {
  if (lead.failed !== null) throw lead.failed;
  if (lead.sql === null) return;
  const sql = lead.sql;
  lead.sql = null;
  runCheck(lead, check, await client.query(sql));
}

function runCheck(lead: Lead, check: CheckStarted, started: pg.QueryResult | pg.QueryResult[]): void {
  const begun = lead.onSent;
  lead.onSent = null;
  begun?.();
  try {
    check(started);
  } catch (e) {
    lead.failed = e;
    throw e;
  }
}

/**
 * One statement of the transaction. A parameter-free first statement goes in the same simple-protocol
 * query as the pending BEGIN and beginWith: PostgreSQL runs them one after the other, each statement
 * with a snapshot of its own (READ COMMITTED), so a read sent after the lock statement sees every commit
 * made before the locks were granted.
 */
async function send(
  client: pg.PoolClient,
  lead: Lead | null,
  check: CheckStarted,
  sql: string,
  params: readonly SqlValue[],
): Promise<pg.QueryResult> {
  if (lead !== null && lead.sql !== null && params.length === 0) {
    const text = `${lead.sql}; ${sql}`;
    lead.sql = null;
    const res = (await client.query(text)) as unknown as pg.QueryResult[];
    runCheck(lead, check, res);
    return res[res.length - 1]!;
  }
  if (lead !== null) await flushLead(client, lead, check);
  return client.query(sql, params.length === 0 ? undefined : params.map(toPg));
}

function txView(client: pg.PoolClient, atCommit: string[], lead: Lead | null, check: CheckStarted): SqlTx {
  return {
    dialect: "postgres",
    all: async <R extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> => {
      const res = await send(client, lead, check, sql, params);
      return res.rows as R[];
    },
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<number> => {
      const res = await send(client, lead, check, sql, params);
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
  return (
    e instanceof Error &&
    ("severity" in e ||
      "errno" in e ||
      (e as { code?: unknown }).code === "ECONNREFUSED" ||
      /^Connection terminated|not queryable/.test(e.message))
  );
}
