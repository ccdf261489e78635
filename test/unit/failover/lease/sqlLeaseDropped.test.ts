import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { FailoverError } from "../../../../src/failover/errors.js";
import { leaseLockId, SqlLeaseStore } from "../../../../src/failover/lease/sqlLease.js";
import { StoreError } from "../../../../src/store/errors.js";
import { LockClass } from "../../../../src/store/locks.js";
import { openStore } from "../../../../src/store/openStore.js";
import { startTcpProxy } from "../../../utils/failover/tcpProxy.js";
import { dropPostgresDb, freshPostgresUrl, HAS_PG } from "../../../utils/stores.js";

/**
 * Issue 14 defect 6a: the PostgreSQL lease store's connection cut while a renewal waits in the database
 * crashed the daemon (an unhandled 'error' on the checked-out client). It must be a failed renewal (a
 * store error, not "lease lost"), and the process carries on.
 */
describe.skipIf(!HAS_PG)("PostgreSQL lease store: connection cut during a renewal", () => {
  const cleanups: (() => Promise<void>)[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => {
    uncaught.push(e);
  };
  afterEach(async () => {
    process.off("uncaughtException", onUncaught);
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("is a failed renewal, never a crash", async () => {
    process.on("uncaughtException", onUncaught);
    const url = await freshPostgresUrl();
    cleanups.push(() => dropPostgresDb(url));
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(url).port || 5432));
    const via = new URL(url);
    via.port = String(proxy.port);
    const store = await openStore(via.toString(), { maxConnections: 2 });
    cleanups.push(() => store.close());
    const lease = new SqlLeaseStore({ name: "v1", reserveMs: 1000 }, store);
    const { grant } = await lease.acquire({ holder: "a", ttlMs: 60_000, stopTimeoutMs: 1000, reason: "test" });

    // another process holds the lease's lock: the renewal waits inside the database
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query("BEGIN");
    await blocker.query("SELECT pg_advisory_xact_lock($1, $2)", [LockClass.Failover, leaseLockId("v1")]);
    const renewal = lease.renew(grant).then(
      () => null,
      (e: unknown) => e,
    );
    for (;;) {
      const r = await blocker.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
      );
      if (r.rowCount !== 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    await proxy.cut();
    const err = await renewal;
    await new Promise((res) => setTimeout(res, 100)); // any late 'error' event would land here
    await blocker.query("ROLLBACK");
    expect(uncaught.map((e) => (e as Error).message)).toEqual([]);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).not.toBeInstanceOf(FailoverError);
  });
});
