import { StoreError, StoreErrorCode } from "./errors.js";
import { type PostgresOptions, PostgresStore } from "./postgresStore.js";
import { type SqliteOptions, SqliteStore } from "./sqliteStore.js";
import type { Store } from "./types.js";

export const DEFAULT_STORE_URL = "sqlite:./data/slashguard.db";

export type StoreOptions = SqliteOptions & PostgresOptions;

/** Opens `sqlite:PATH` or `postgres://…` / `postgresql://…`, applying migrations. */
export async function openStore(url: string = DEFAULT_STORE_URL, opts: StoreOptions = {}): Promise<Store> {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path.length === 0)
      throw new StoreError({ code: StoreErrorCode.BadUrl, url }, "sqlite URL needs a path: sqlite:PATH");
    return SqliteStore.open(url, path, opts);
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return PostgresStore.open(redactUrl(url), url, opts);
  }
  throw new StoreError(
    { code: StoreErrorCode.BadUrl, url: redactUrl(url) },
    `unsupported store URL ${redactUrl(url)}: use sqlite:PATH or postgres://user@host/db`,
  );
}

/** The URL without its password, for logs and status output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]+):[^@/]*@/, "://$1:***@");
  }
}
