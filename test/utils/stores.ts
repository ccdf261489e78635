import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { it } from "vitest";
import { openStore } from "../../src/store/openStore.js";
import type { Store } from "../../src/store/types.js";

/** PostgreSQL used by tests: DATABASE_URL, or the local server of the build machine. */
export const PG_ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let pgAvailable: boolean | undefined;

/** Whether PostgreSQL answers; tests that need it skip with a message when it does not. */
export async function postgresAvailable(): Promise<boolean> {
  if (pgAvailable !== undefined) return pgAvailable;
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    pgAvailable = true;
  } catch {
    pgAvailable = false;
    console.warn(`PostgreSQL is not reachable at ${PG_ADMIN_URL}: PostgreSQL tests are SKIPPED (set DATABASE_URL)`);
  } finally {
    await c.end().catch(() => {});
  }
  return pgAvailable;
}

export const HAS_PG = await postgresAvailable();

/** Shows up as a skipped test (with the reason) where PostgreSQL is missing, so a skip is never silent. */
export function markPostgresSkipped(suite: string): void {
  if (!HAS_PG) it.skip(`${suite} on PostgreSQL: SKIPPED, PostgreSQL is not reachable (set DATABASE_URL)`, () => {});
}

let dbCounter = 0;

/** A fresh, empty PostgreSQL database for one test; returns its URL. */
export async function freshPostgresUrl(): Promise<string> {
  const name = `sg_test_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropPostgresDb(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

export function tempDir(prefix = "sg-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestStore {
  url: string;
  store: Store;
  /** Closes the store and removes its data. */
  dispose(): Promise<void>;
}

export type Engine = "sqlite" | "postgres";

/** Engines to run a suite against: SQLite always, PostgreSQL when it is reachable. */
export const ENGINES: Engine[] = HAS_PG ? ["sqlite", "postgres"] : ["sqlite"];

export async function freshStoreUrl(engine: Engine): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (engine === "postgres") {
    const url = await freshPostgresUrl();
    return { url, cleanup: () => dropPostgresDb(url) };
  }
  const t = tempDir();
  return { url: `sqlite:${join(t.dir, "sg.db")}`, cleanup: async () => t.cleanup() };
}

export async function openTestStore(engine: Engine): Promise<TestStore> {
  const { url, cleanup } = await freshStoreUrl(engine);
  const store = await openStore(url);
  return {
    url,
    store,
    dispose: async () => {
      await store.close();
      await cleanup();
    },
  };
}
