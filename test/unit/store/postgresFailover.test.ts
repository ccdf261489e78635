import { afterEach, describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { openStore } from "../../../src/store/openStore.js";
import type { ReplicationState } from "../../../src/store/pgDurability.js";
import type { PostgresStore } from "../../../src/store/postgresStore.js";
import {
  freeLoopbackPort,
  HAS_PG_BINARIES,
  pollUntil,
  STANDBY_NAME,
  startPgCluster,
  startPgPair,
  waitForStandby,
} from "../../utils/pgCluster.js";

/**
 * Issue 17: PostgreSQL high availability. A real primary and a real streaming standby (pg_basebackup)
 * on loopback; the store follows the primary named in a multi-host URL and checks the replication
 * state at `--db-durability replicated`.
 */
describe.skipIf(!HAS_PG_BINARIES)(
  "PostgreSQL primary + streaming standby (private clusters)",
  { timeout: 60_000 },
  () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    }, 30_000);

    it("asynchronous standby: replicated refuses to open, local reports it; made synchronous, a detached standby stops replicated commits", async () => {
      const { primary, standby, url } = await startPgPair(false);
      cleanups.push(primary.stop, standby.stop);
      await expect(openStore(url, { durability: "replicated" })).rejects.toMatchObject({
        code: StoreErrorCode.NotReplicated,
        type: { setup: "async_standby" },
      });
      const seen: ReplicationState[] = [];
      const local = (await openStore(url, { onReplication: (s) => seen.push(s) })) as PostgresStore;
      cleanups.push(() => local.close());
      expect(local.replication?.setup).toBe("async_standby");
      expect(seen.map((s) => s.setup)).toEqual(["async_standby"]);

      await primary.admin(`ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`);
      await primary.reload("synchronous_standby_names", STANDBY_NAME);
      await waitForStandby(primary, true);
      // the store's open session rereads the setting when the postmaster's signal reaches it
      await pollUntil(async () => (await local.refreshReplication()).setup === "sync_standby", "sync_standby seen");
      // a short statement timeout: also the deadline of a commit that waits for a standby that is gone
      const store = (await openStore(url, { durability: "replicated", statementTimeoutMs: 2000 })) as PostgresStore;
      cleanups.push(() => store.close());
      expect(store.replication?.setup).toBe("sync_standby");
      await store.tx((tx) => tx.run("CREATE TABLE t (x INTEGER)"));
      await store.tx((tx) => tx.run("INSERT INTO t VALUES (1)"));

      // the standby dies after BEGIN's check: the COMMIT waits for it (statement_timeout does not cover that
      // wait); past the store's deadline the transaction counts as failed, nothing released
      await expect(
        store.tx(async (tx) => {
          await tx.run("INSERT INTO t VALUES (2)");
          await standby.kill();
        }),
      ).rejects.toMatchObject({ code: StoreErrorCode.NotReplicated, type: { setup: "commit_not_confirmed" } });
      await pollUntil(async () => (await store.refreshReplication()).setup === "single", "the standby gone");
      await expect(store.tx((tx) => tx.run("INSERT INTO t VALUES (3)"))).rejects.toMatchObject({
        code: StoreErrorCode.NotReplicated,
        type: { setup: "single" },
      });
      // 2 was never acknowledged (its backend still waits for a standby, so nobody sees it yet); 3 never began
      const rows = await store.tx((tx) => tx.all("SELECT x FROM t ORDER BY x"), { readOnly: true });
      expect(rows.map((r) => r.x)).toEqual([1]);
    });

    it("failover: the primary is found wherever it is listed; killed, transactions fail closed and the promoted standby is followed with every committed row", async () => {
      const { primary, standby } = await startPgPair(true);
      cleanups.push(primary.stop, standby.stop);
      // the standby first in the list: the store skips it (read-only) and writes to the primary
      const url = `postgres://postgres@127.0.0.1:${standby.port},127.0.0.1:${primary.port}/postgres?target_session_attrs=read-write`;
      const moved: string[] = [];
      const store = (await openStore(url, {
        durability: "replicated",
        onPrimary: (h) => moved.push(h),
      })) as PostgresStore;
      cleanups.push(() => store.close());
      expect(store.primary).toBe(`127.0.0.1:${primary.port}`);
      expect(store.replication?.setup).toBe("sync_standby");
      await store.tx((tx) => tx.run("CREATE TABLE t (x INTEGER)"));
      const committed: number[] = [];
      for (let i = 0; i < 50; i++) {
        await store.tx((tx) => tx.run(`INSERT INTO t VALUES (${i})`));
        committed.push(i);
      }

      // killed in the middle of a transaction, while its connection is idle between statements: the loss
      // arrives as an 'error' event on the checked-out client (it must not crash the process)
      await expect(
        store.tx(async (tx) => {
          await tx.run("INSERT INTO t VALUES (-1)");
          await primary.kill();
          await new Promise((r) => setTimeout(r, 200));
          await tx.run("INSERT INTO t VALUES (-2)");
        }),
      ).rejects.toMatchObject({ code: StoreErrorCode.Unavailable });
      // no host accepts writes yet (the standby is still read-only): still closed
      await expect(store.tx((tx) => tx.run("INSERT INTO t VALUES (-1)"))).rejects.toMatchObject({
        code: StoreErrorCode.Unavailable,
      });
      await standby.promote();
      // the promoted server has no synchronous standby of its own: replicated keeps refusing
      await expect(store.tx((tx) => tx.run("INSERT INTO t VALUES (-1)"))).rejects.toMatchObject({
        code: StoreErrorCode.NotReplicated,
      });
      expect(store.primary).toBe(`127.0.0.1:${standby.port}`);
      expect(moved).toContain(`127.0.0.1:${standby.port}`);

      // as a cluster manager does on promotion without a spare: stop waiting for a standby; local writes
      await standby.admin("ALTER SYSTEM RESET synchronous_standby_names");
      await standby.reload("synchronous_standby_names", "");
      const local = (await openStore(url)) as PostgresStore;
      cleanups.push(() => local.close());
      await local.tx((tx) => tx.run("INSERT INTO t VALUES (100)"));
      const rows = await local.tx((tx) => tx.all("SELECT x FROM t WHERE x >= 0 ORDER BY x"), { readOnly: true });
      expect(rows.map((r) => r.x)).toEqual([...committed, 100]);
    });

    it("a primary that turns read-only (as a demoted one): the batch fails closed and the store waits for a writable host", async () => {
      const cluster = await startPgCluster();
      cleanups.push(cluster.stop);
      const closed = await freeLoopbackPort();
      const url = `postgres://postgres@127.0.0.1:${closed},127.0.0.1:${cluster.port}/postgres?target_session_attrs=read-write`;
      const store = (await openStore(url)) as PostgresStore;
      cleanups.push(() => store.close());
      expect(store.primary).toBe(`127.0.0.1:${cluster.port}`);
      await store.tx((tx) => tx.run("CREATE TABLE t (x INTEGER)"));

      await cluster.admin("ALTER SYSTEM SET default_transaction_read_only = on");
      await cluster.reload("default_transaction_read_only", "on");
      // the store's open session rereads the file when the postmaster's signal reaches it
      const readOnlyNow = async (): Promise<boolean> =>
        (
          await store.tx((tx) => tx.all("SELECT current_setting('default_transaction_read_only') AS v"), {
            readOnly: true,
          })
        )[0]!.v === "on";
      await pollUntil(readOnlyNow, "the store's session read-only");
      await expect(store.tx((tx) => tx.run("INSERT INTO t VALUES (1)"))).rejects.toMatchObject({
        code: StoreErrorCode.Unavailable,
      });
      await expect(store.tx((tx) => tx.run("INSERT INTO t VALUES (2)"))).rejects.toMatchObject({
        code: StoreErrorCode.Unavailable,
        type: { cause: "no primary" },
      });
      await cluster.admin("ALTER SYSTEM RESET default_transaction_read_only");
      await cluster.reload("default_transaction_read_only", "off");
      await store.tx((tx) => tx.run("INSERT INTO t VALUES (3)"));
      const rows = await store.tx((tx) => tx.all("SELECT x FROM t ORDER BY x"), { readOnly: true });
      expect(rows.map((r) => r.x)).toEqual([3]);
    });
  },
);

if (!HAS_PG_BINARIES)
  it.skip("PostgreSQL failover: SKIPPED, no PostgreSQL server binaries (initdb) on this machine", () => {});
