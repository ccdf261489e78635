import type pg from "pg";
import { StoreError, StoreErrorCode } from "./errors.js";

/**
 * How far a PostgreSQL commit must reach before it counts, i.e. before a signature it records may
 * leave the process. The one place the level is chosen: `local` waits until the commit is flushed to
 * the primary's disk (and to synchronous standbys, when the server names some); `replicated` also
 * requires a synchronous standby to be attached, checked in every write transaction (a promotion of
 * an asynchronous standby can lose acknowledged records: forgotten signatures).
 */
export type DbDurability = "local" | "replicated";

export const DB_DURABILITY_LEVELS: readonly DbDurability[] = ["local", "replicated"];
export const DEFAULT_DB_DURABILITY: DbDurability = "local";

/** synchronous_commit per level: never `off` or `local`, whatever the server, role or database default says. */
const SYNCHRONOUS_COMMIT: Record<DbDurability, "on"> = { local: "on", replicated: "on" };

/**
 * What a failover of this server would keep. `single`: no standby streams from it. `sync_standby`:
 * synchronous_standby_names names a standby that is attached and synchronous, so a commit waits for it.
 * `async_standby`: standbys stream but none synchronously; promoting one can lose acknowledged commits.
 */
export type ReplicationSetup = "single" | "sync_standby" | "async_standby";

export interface ReplicationState {
  setup: ReplicationSetup;
  synchronousCommit: string;
  synchronousStandbyNames: string;
  /** Attached standbys (pg_stat_replication rows) and those among them that are synchronous. */
  standbys: number;
  syncStandbys: number;
}

/**
 * Reads the replication state in one statement. pg_stat_replication shows sync_state only to
 * superusers and members of pg_read_all_stats (pg_monitor): without it no standby counts as
 * synchronous, so `replicated` fails closed.
 */
export const REPLICATION_STATE_SQL = `SELECT current_setting('synchronous_commit') AS synchronous_commit,
  current_setting('synchronous_standby_names') AS synchronous_standby_names,
  (SELECT count(*) FROM pg_stat_replication) AS standbys,
  (SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')) AS sync_standbys`;

export function classifyReplication(row: Record<string, unknown>): ReplicationState {
  const synchronousCommit = String(row.synchronous_commit);
  const synchronousStandbyNames = String(row.synchronous_standby_names ?? "").trim();
  const standbys = Number(row.standbys);
  const syncStandbys = Number(row.sync_standbys);
  // synchronous_commit local/off never waits for a standby, whatever synchronous_standby_names says
  const waits = ["on", "remote_write", "remote_apply"].includes(synchronousCommit);
  const setup: ReplicationSetup =
    standbys === 0
      ? "single"
      : waits && synchronousStandbyNames !== "" && syncStandbys > 0
        ? "sync_standby"
        : "async_standby";
  return { setup, synchronousCommit, synchronousStandbyNames, standbys, syncStandbys };
}

/** Whether a setup keeps every acknowledged record across a promotion at this level (the metric and alert). */
export function durabilityOk(level: DbDurability, state: ReplicationState): boolean {
  if (level === "replicated") return state.setup === "sync_standby";
  // local: a single server is what local promises; an asynchronous standby is a trap either way
  return state.setup !== "async_standby";
}

/** Throws ERR_STORE_NOT_REPLICATED when `replicated` is asked for and no synchronous standby is attached. */
export function assertReplicated(level: DbDurability, state: ReplicationState): void {
  if (level !== "replicated" || state.setup === "sync_standby") return;
  throw new StoreError(
    {
      code: StoreErrorCode.NotReplicated,
      setup: state.setup,
      synchronousStandbyNames: state.synchronousStandbyNames,
      syncStandbys: state.syncStandbys,
    },
    `--db-durability replicated needs a synchronous standby, but the database is ${state.setup} (synchronous_standby_names = '${state.synchronousStandbyNames}', ${state.syncStandbys} synchronous standby attached): nothing is signed`,
  );
}

/** Server settings without which a committed record can be lost or corrupted by a crash of the database host. */
const REQUIRED_ON = ["fsync", "full_page_writes"] as const;

/**
 * The statements that open every write transaction, sent with BEGIN in one simple-protocol query (no
 * round trip of their own): pin synchronous_commit for this transaction, and read the settings the
 * commit's durability rests on (a reload can change them while we run). Results: BEGIN, SET, SELECT.
 */
export function beginDurably(level: DbDurability): string {
  const settings = REQUIRED_ON.map((s) => `current_setting('${s}') AS ${s}`).join(", ");
  const begin = `BEGIN; SET LOCAL synchronous_commit = ${SYNCHRONOUS_COMMIT[level]}`;
  // replicated: the replication state rides in the same query, so a detached standby stops the next commit
  return level === "replicated"
    ? `${begin}; ${REPLICATION_STATE_SQL.replace("SELECT ", `SELECT ${settings}, `)}`
    : `${begin}; SELECT ${settings}`;
}

/** Index of the settings row among the results of a query that starts with beginDurably. */
const SETTINGS_RESULT = 2;

/**
 * Throws ERR_STORE_UNSAFE_SETTINGS (fail closed: nothing of the transaction is committed) unless every
 * required setting is on; at `replicated`, ERR_STORE_NOT_REPLICATED unless a synchronous standby is
 * attached. Returns the replication state when the query carried it.
 */
export function assertDurableSettings(
  results: pg.QueryResult | pg.QueryResult[],
  level: DbDurability = "local",
): ReplicationState | null {
  const row = (Array.isArray(results) ? results[SETTINGS_RESULT] : undefined)?.rows[0] as
    | Record<string, unknown>
    | undefined;
  for (const name of REQUIRED_ON) {
    const value = row?.[name];
    if (value !== "on") {
      throw new StoreError(
        { code: StoreErrorCode.UnsafeSettings, setting: name, value: String(value) },
        `PostgreSQL runs with ${name} = ${String(value)}: a crash of the database host could lose or corrupt records, so nothing is signed; set ${name} = on`,
      );
    }
  }
  if (level !== "replicated" || row === undefined) return null;
  const state = classifyReplication(row);
  assertReplicated(level, state);
  return state;
}
