import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { StoreError, StoreErrorCode } from "../../../src/store/errors.js";
import { openStore } from "../../../src/store/openStore.js";
import { dropPostgresDb, freshPostgresUrl, HAS_PG, PG_ADMIN_URL } from "../../utils/stores.js";

/**
 * Issue 14 defect 6a: a connection dropped while a transaction held it emitted 'error' on a checked-out
 * pool client with no listener, and crashed the process (`Connection terminated unexpectedly`). It must
 * be a failed transaction (a typed store error), and the store must work again afterwards.
 */
async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    // the backend is gone once pg_stat_activity no longer lists it
    for (;;) {
      const r = await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]);
      if (r.rowCount === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    await admin.end();
  }
}

describe.skipIf(!HAS_PG)("PostgreSQL connection dropped during a transaction", () => {
  const cleanups: (() => Promise<void>)[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => {
    uncaught.push(e);
  };
  afterEach(async () => {
    process.off("uncaughtException", onUncaught);
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("fails the transaction with a typed store error instead of crashing, then recovers", async () => {
    process.on("uncaughtException", onUncaught);
    const url = await freshPostgresUrl();
    cleanups.push(() => dropPostgresDb(url));
    const store = await openStore(url);
    cleanups.push(() => store.close());

    const err = await store
      .tx(async (tx) => {
        const pid = Number((await tx.all<{ pid: number }>("SELECT pg_backend_pid() AS pid"))[0]!.pid);
        await terminate(pid);
        // let the server's FATAL message and the socket close reach the idle client
        await new Promise((res) => setTimeout(res, 200));
        await tx.run("SELECT 1");
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(uncaught.map((e) => (e as Error).message)).toEqual([]);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).type.code).toBe(StoreErrorCode.Unavailable);
    // the pool hands out a fresh connection next time
    expect(await store.tx(async (tx) => (await tx.all("SELECT 1 AS one")).length)).toBe(1);
  });
});
