import pg from "pg";
import { dropPostgresDb, type Engine, freshPostgresUrl, freshStoreUrl } from "../../utils/stores.js";
import { FaultyStore } from "./faultyStore.js";

/**
 * PostgreSQL databases are reused across sequences (CREATE DATABASE costs far more than a sequence):
 * a returned one has its protection tables emptied before it is handed out again.
 */
const pgPool: string[] = [];
const pgAll: string[] = [];
const PROTECTION_TABLES = /^(eth_|cometbft_|substrate_)/;

async function emptyProtectionTables(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const rows = await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'");
    const tables = rows.rows.map((r) => r.t).filter((t) => PROTECTION_TABLES.test(t));
    // DELETE, not TRUNCATE: these tables hold a few rows, and TRUNCATE costs new files and a checkpoint
    const parents = ["eth_validators", "substrate_keys"];
    const order = [...tables.filter((t) => !parents.includes(t)), ...tables.filter((t) => parents.includes(t))];
    await c.query(`BEGIN; ${order.map((t) => `DELETE FROM ${t};`).join(" ")} COMMIT`);
  } finally {
    await c.end();
  }
}

/** Drops the reused PostgreSQL databases (afterAll of a suite). */
export async function dropPooledDatabases(): Promise<void> {
  pgPool.length = 0;
  for (const url of pgAll.splice(0)) await dropPostgresDb(url).catch(() => undefined);
}

/**
 * The databases one command sequence uses: the current one (two store connections on it, one per engine
 * instance, as two processes would have) and the fresh ones that exports were re-imported into.
 */
export class Databases {
  private readonly cleanups: (() => Promise<void>)[] = [];
  constructor(readonly engine: Engine) {}

  async fresh(): Promise<string> {
    if (this.engine === "postgres") {
      let url = pgPool.pop();
      if (url === undefined) {
        url = await freshPostgresUrl();
        pgAll.push(url);
      } else await emptyProtectionTables(url);
      const taken = url;
      this.cleanups.push(async () => {
        pgPool.push(taken);
      });
      return url;
    }
    const { url, cleanup } = await freshStoreUrl(this.engine);
    this.cleanups.push(cleanup);
    return url;
  }

  /** Two connections to one database (two instances sharing it). */
  static async connect(url: string): Promise<[FaultyStore, FaultyStore]> {
    const a = await FaultyStore.open(url);
    try {
      return [a, await FaultyStore.open(url)];
    } catch (e) {
      await a.close();
      throw e;
    }
  }

  async dispose(): Promise<void> {
    for (const c of this.cleanups.splice(0)) await c().catch(() => undefined);
  }
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

export async function settleAll<T>(ps: readonly Promise<T>[]): Promise<Settled<T>[]> {
  return Promise.all(ps.map(settle));
}
