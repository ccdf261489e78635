import type pg from "pg";
import { StoreError, StoreErrorCode } from "./errors.js";

/**
 * How far a PostgreSQL commit must reach before it counts, i.e. before a signature it records may
 * leave the process. The one place the level is chosen: `local` waits until the commit is flushed to
 * the primary's disk (and to synchronous standbys, when the server names some). A `replicated` level
 * (a synchronous standby required) belongs here too, with its own check.
 */
export type DbDurability = "local";

export const DEFAULT_DB_DURABILITY: DbDurability = "local";

/** synchronous_commit per level: never `off` or `local`, whatever the server, role or database default says. */
const SYNCHRONOUS_COMMIT: Record<DbDurability, "on"> = { local: "on" };

/** Server settings without which a committed record can be lost or corrupted by a crash of the database host. */
const REQUIRED_ON = ["fsync", "full_page_writes"] as const;

/**
 * The statements that open every write transaction, sent with BEGIN in one simple-protocol query (no
 * round trip of their own): pin synchronous_commit for this transaction, and read the settings the
 * commit's durability rests on (a reload can change them while we run). Results: BEGIN, SET, SELECT.
 */
export function beginDurably(level: DbDurability): string {
  const settings = REQUIRED_ON.map((s) => `current_setting('${s}') AS ${s}`).join(", ");
  return `BEGIN; SET LOCAL synchronous_commit = ${SYNCHRONOUS_COMMIT[level]}; SELECT ${settings}`;
}

/** Index of the settings row among the results of a query that starts with beginDurably. */
const SETTINGS_RESULT = 2;

/** Throws ERR_STORE_UNSAFE_SETTINGS (fail closed: nothing of the transaction is committed) unless every required setting is on. */
export function assertDurableSettings(results: pg.QueryResult | pg.QueryResult[]): void {
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
}
