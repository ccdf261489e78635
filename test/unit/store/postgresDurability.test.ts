import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { openStore } from "../../../src/store/openStore.js";
import type { Store } from "../../../src/store/types.js";
import { HAS_PG_BINARIES, type PgCluster, startPgCluster } from "../../utils/pgCluster.js";
import { dropPostgresDb, freshPostgresUrl, HAS_PG, PG_ADMIN_URL } from "../../utils/stores.js";

/**
 * Issue 14 defect 12: PostgreSQL durability was left to the server's synchronous_commit. Every write
 * transaction now pins it (sent with BEGIN) and checks fsync and full_page_writes in the same round trip.
 */
async function waitUntil(ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const setting = (store: Store, name: string, readOnly = false): Promise<string> =>
  store.tx(async (tx) => String((await tx.all(`SELECT current_setting('${name}') AS v`))[0]!.v), { readOnly });

describe.skipIf(!HAS_PG)("PostgreSQL durability pinned per transaction", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("synchronous_commit is on in every write transaction, whatever the database or session default says", async () => {
    const url = await freshPostgresUrl();
    cleanups.push(() => dropPostgresDb(url));
    const name = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
    } finally {
      await admin.end();
    }
    const store = await openStore(url);
    cleanups.push(() => store.close());
    expect(await setting(store, "synchronous_commit", true)).toBe("off"); // the database default, seen read-only
    expect(await setting(store, "synchronous_commit")).toBe("on");

    const session = new URL(url);
    session.searchParams.set("options", "-c synchronous_commit=local");
    const store2 = await openStore(session.toString());
    cleanups.push(() => store2.close());
    expect(await setting(store2, "synchronous_commit", true)).toBe("local");
    expect(await setting(store2, "synchronous_commit")).toBe("on");
  });
});

describe.skipIf(!HAS_PG_BINARIES)("PostgreSQL server settings (a private cluster)", () => {
  let cluster: PgCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  /** pg_reload_conf() only signals the postmaster: wait until a new connection sees the value. */
  async function reload(c: PgCluster, name: string, value: string): Promise<void> {
    await c.admin("SELECT pg_reload_conf()");
    await waitUntil(async () => {
      const client = new pg.Client({ connectionString: c.url });
      await client.connect();
      try {
        return (await client.query(`SELECT current_setting('${name}') AS v`)).rows[0].v === value;
      } finally {
        await client.end();
      }
    });
  }

  it("refuses to open on a server with fsync or full_page_writes off, and fails closed when a reload turns them off", async () => {
    cluster = await startPgCluster();
    await cluster.admin("ALTER SYSTEM SET fsync = off");
    await reload(cluster, "fsync", "off");
    await expect(openStore(cluster.url)).rejects.toMatchObject({
      code: StoreErrorCode.UnsafeSettings,
      type: { setting: "fsync", value: "off" },
    });
    await cluster.admin("ALTER SYSTEM RESET fsync");
    await cluster.admin("ALTER SYSTEM SET full_page_writes = off");
    await reload(cluster, "full_page_writes", "off");
    await expect(openStore(cluster.url)).rejects.toMatchObject({
      code: StoreErrorCode.UnsafeSettings,
      type: { setting: "full_page_writes", value: "off" },
    });

    await cluster.admin("ALTER SYSTEM RESET full_page_writes");
    await reload(cluster, "full_page_writes", "on");
    const store = await openStore(cluster.url);
    try {
      await store.tx((tx) => tx.run("CREATE TABLE t (x INTEGER)"));
      // fsync turned off while the store is open: the next write transaction commits nothing
      await cluster.admin("ALTER SYSTEM SET fsync = off");
      await reload(cluster, "fsync", "off");
      // the store's open backend rereads the file when the postmaster's signal reaches it
      await waitUntil(async () => (await setting(store, "fsync", true)) === "off");
      await expect(store.tx((tx) => tx.run("INSERT INTO t VALUES (1)"))).rejects.toMatchObject({
        code: StoreErrorCode.UnsafeSettings,
      });
      const rows = await store.tx((tx) => tx.all("SELECT count(*) AS n FROM t"), { readOnly: true });
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await store.close();
    }
  });
});

if (!HAS_PG) it.skip("PostgreSQL durability: SKIPPED, PostgreSQL is not reachable (set DATABASE_URL)", () => {});
if (!HAS_PG_BINARIES)
  it.skip("PostgreSQL server settings: SKIPPED, no PostgreSQL server binaries (initdb) on this machine", () => {});
