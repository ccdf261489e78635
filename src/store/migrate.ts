import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { StoreError, StoreErrorCode } from "./errors.js";
import type { Dialect, SqlTx } from "./types.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Numbered SQL files of one dialect, in order. */
export function loadMigrations(dialect: Dialect): Migration[] {
  const dir = fileURLToPath(new URL(`./migrations/${dialect}/`, import.meta.url));
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = FILE_RE.exec(file);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(`${dir}${file}`, "utf8") });
  }
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) throw new Error(`two migrations numbered ${out[i]!.version}`);
  }
  return out;
}

const CREATE_MIGRATIONS_TABLE =
  "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/**
 * Applies the missing migrations inside the caller's transaction (which holds the migration lock).
 * A database that has a migration this binary does not know is refused: an older binary must not write
 * to a newer schema.
 */
export async function applyMigrations(
  tx: SqlTx,
  migrations: Migration[],
  exec: (sql: string) => Promise<void>,
): Promise<number> {
  await exec(CREATE_MIGRATIONS_TABLE);
  const rows = await tx.all<{ version: number | bigint }>("SELECT version FROM schema_migrations ORDER BY version");
  const applied = new Set(rows.map((r) => Number(r.version)));
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const found = Math.max(0, ...applied);
  if (found > known) {
    throw new StoreError(
      { code: StoreErrorCode.SchemaTooNew, found, known },
      `database schema version ${found} is newer than this slashguard knows (${known}); upgrade slashguard`,
    );
  }
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    await exec(m.sql);
    await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
      m.version,
      m.name,
      new Date().toISOString(),
    ]);
  }
  return known;
}
