import { AppError } from "../util/errors.js";

export enum StoreErrorCode {
  BadUrl = "ERR_STORE_URL",
  SchemaTooNew = "ERR_STORE_SCHEMA_TOO_NEW",
  Unavailable = "ERR_STORE_UNAVAILABLE",
  LockTimeout = "ERR_STORE_LOCK_TIMEOUT",
  Conflict = "ERR_STORE_CONSTRAINT",
  Closed = "ERR_STORE_CLOSED",
  /** The database server runs with settings that let a crash lose committed records (fsync, full_page_writes off). */
  UnsafeSettings = "ERR_STORE_UNSAFE_SETTINGS",
  /** --db-durability replicated, and no synchronous standby is attached (or a commit was not confirmed by one). */
  NotReplicated = "ERR_STORE_NOT_REPLICATED",
}

export type StoreErrorType =
  | { code: StoreErrorCode.BadUrl; url: string }
  | { code: StoreErrorCode.SchemaTooNew; found: number; known: number }
  | { code: StoreErrorCode.Unavailable; cause: string }
  | { code: StoreErrorCode.LockTimeout }
  | { code: StoreErrorCode.Conflict; constraint: string }
  | { code: StoreErrorCode.Closed }
  | { code: StoreErrorCode.UnsafeSettings; setting: string; value: string }
  | { code: StoreErrorCode.NotReplicated; setup: string; synchronousStandbyNames: string; syncStandbys: number };

export class StoreError extends AppError<StoreErrorType> {}

/** Maps a driver error to a typed store error (fail closed: the caller refuses to sign on any of them). */
export function toStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const err = e as { code?: string; message?: string; constraint?: string };
  const msg = err?.message ?? String(e);
  // PostgreSQL: 55P03 lock_not_available, 57014 query_canceled (statement/lock timeout); SQLite: SQLITE_BUSY
  if (err?.code === "55P03" || err?.code === "57014" || err?.code === "SQLITE_BUSY")
    return new StoreError({ code: StoreErrorCode.LockTimeout }, `store lock or statement timeout: ${msg}`);
  // PostgreSQL class 23: integrity constraint violations (unique, check, foreign key, not null)
  if (err?.code?.startsWith("23") || err?.code?.startsWith("SQLITE_CONSTRAINT"))
    return new StoreError({ code: StoreErrorCode.Conflict, constraint: err.constraint ?? err.code }, msg);
  return new StoreError({ code: StoreErrorCode.Unavailable, cause: msg }, `store error: ${msg}`);
}
