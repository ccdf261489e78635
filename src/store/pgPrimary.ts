import pg from "pg";
import { StoreError, StoreErrorCode } from "./errors.js";
import type { PgHost, PgHostList } from "./pgHosts.js";

/** Answers whether the server of this session accepts writes (libpq's target_session_attrs=read-write test). */
export const WRITABLE_SQL =
  "SELECT pg_is_in_recovery() AS in_recovery, current_setting('transaction_read_only') AS read_only";

export function isWritable(row: Record<string, unknown> | undefined): boolean {
  return row !== undefined && row.in_recovery === false && row.read_only === "off";
}

/** A connection that found a read-only server (a standby, or a demoted primary). */
export function notWritable(host: string): StoreError {
  return new StoreError(
    { code: StoreErrorCode.Unavailable, cause: "read-only server" },
    `PostgreSQL at ${host} does not accept writes (a standby or a demoted primary): looking for the primary`,
  );
}

/**
 * Tries the hosts in order, as libpq does for target_session_attrs=read-write: the first one that
 * answers and accepts writes is the primary. None: ERR_STORE_UNAVAILABLE (fail closed; the next
 * transaction tries again).
 */
export async function locatePrimary(list: PgHostList, connectTimeoutMs: number): Promise<PgHost> {
  const failures: string[] = [];
  for (const h of list.hosts) {
    const c = new pg.Client({ connectionString: list.singleHostUrl(h), connectionTimeoutMillis: connectTimeoutMs });
    c.on("error", () => {});
    try {
      await c.connect();
      const res = await c.query(WRITABLE_SQL);
      if (isWritable(res.rows[0])) return h;
      failures.push(`${h.host}:${h.port} read-only`);
    } catch (e) {
      failures.push(`${h.host}:${h.port} ${(e as { code?: string }).code ?? "unreachable"}`);
    } finally {
      await c.end().catch(() => {});
    }
  }
  throw new StoreError(
    { code: StoreErrorCode.Unavailable, cause: "no primary" },
    `no PostgreSQL host accepts writes (${failures.join(", ")}): nothing is signed until one does`,
  );
}

/** SQLSTATEs after which the session's server may no longer be the primary. */
const LOST_PRIMARY_CODES = new Set(["57P01", "57P02", "57P03", "25006", "08000", "08003", "08006", "08001", "08004"]);

/** Whether an error means the connection or its server's role is gone (look for the primary again). */
export function lostPrimary(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && LOST_PRIMARY_CODES.has(code)) return true;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, EPIPE …
  if (e instanceof StoreError && e.type.code === StoreErrorCode.Unavailable) return true;
  return /^Connection terminated|not queryable|timeout exceeded when trying to connect/.test(e.message);
}
