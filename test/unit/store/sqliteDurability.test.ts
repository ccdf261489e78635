import { fdatasync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { SqliteStore } from "../../../src/store/sqliteStore.js";
import type { SyncFn } from "../../../src/store/walSync.js";

/** A sync that does the real fdatasync but answers only when the test releases it (with an error if given). */
interface HeldSync {
  fn: SyncFn;
  calls: number;
  waiting: number;
  /** answer at once instead of holding (while opening and closing the store) */
  passThrough: boolean;
  release: (err?: NodeJS.ErrnoException) => void;
}

function heldSync(): HeldSync {
  const held: ((injected: NodeJS.ErrnoException | null) => void)[] = [];
  const state: HeldSync = {
    calls: 0,
    passThrough: true,
    get waiting(): number {
      return held.length;
    },
    fn: ((fd, cb) => {
      state.calls++;
      if (state.passThrough) return fdatasync(fd, cb);
      fdatasync(fd, (err) => held.push((injected) => cb(injected ?? err)));
    }) as SyncFn,
    release: (err?: NodeJS.ErrnoException): void => {
      for (const h of held.splice(0)) h(err ?? null);
    },
  };
  return state;
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
};

describe("SQLite commit durability (WAL synced off the event loop)", () => {
  let dir: string;
  let store: SqliteStore | null = null;
  let sync: HeldSync;
  afterEach(async () => {
    sync.passThrough = true;
    sync.release();
    await store?.close();
    store = null;
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<SqliteStore> {
    dir = mkdtempSync(join(tmpdir(), "sg-durable-"));
    const path = join(dir, "s.db");
    sync = heldSync();
    store = await SqliteStore.open(`sqlite:${path}`, path, { syncFn: sync.fn });
    await store.tx((tx) => tx.run("CREATE TABLE t (v INTEGER)"));
    sync.passThrough = false;
    return store;
  }

  it("a write transaction resolves only after the WAL sync for its commit has answered", async () => {
    const s = await open();

    let done = false;
    const before = sync.calls;
    const p = s
      .tx((tx) => tx.run("INSERT INTO t VALUES (1)"))
      .then(() => {
        done = true;
      });
    await until(() => sync.waiting === 1);
    expect(sync.calls).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false); // committed, but not yet known durable: not reported
    sync.release();
    await p;
    expect(done).toBe(true);
  });

  it("commits made while a sync runs wait for a later sync; waiting commits share one", async () => {
    const s = await open();

    const before = sync.calls;
    const first = s.tx((tx) => tx.run("INSERT INTO t VALUES (1)"));
    await until(() => sync.waiting === 1); // first sync is running
    // the next transactions commit while the first sync is still out (the queue moved on at COMMIT)
    const later = [2, 3, 4].map((v) => s.tx((tx) => tx.run("INSERT INTO t VALUES ($1)", [v])));
    await new Promise((r) => setTimeout(r, 20));
    expect(sync.calls).toBe(before + 1);
    sync.release();
    await first;
    await until(() => sync.waiting === 1);
    expect(sync.calls).toBe(before + 2); // one more sync covers all three later commits
    sync.release();
    await Promise.all(later);
    const rows = await s.tx((tx) => tx.all("SELECT count(*) AS n FROM t"), { readOnly: true });
    expect(Number(rows[0]!.n)).toBe(4);
  });

  it("a failed sync fails its transaction and every later one with ERR_STORE_UNAVAILABLE", async () => {
    const s = await open();

    const p = s.tx((tx) => tx.run("INSERT INTO t VALUES (1)"));
    await until(() => sync.waiting === 1);
    sync.release(Object.assign(new Error("I/O error"), { code: "EIO" }));
    await expect(p).rejects.toMatchObject({ code: StoreErrorCode.Unavailable });
    // the kernel may have dropped the pages: nothing written after is reported durable either
    await expect(s.tx((tx) => tx.run("INSERT INTO t VALUES (2)"))).rejects.toMatchObject({
      code: StoreErrorCode.Unavailable,
    });
    // and health checks see it
    await expect(s.ping()).rejects.toMatchObject({ code: StoreErrorCode.Unavailable });
  });

  it("uses synchronous=NORMAL in WAL mode (the WAL sync is done by the store itself)", async () => {
    const s = await open();
    const rows = await s.tx((tx) => tx.all("PRAGMA synchronous"), { readOnly: true });
    expect(Number(Object.values(rows[0]!)[0])).toBe(1);
    const mode = await s.tx((tx) => tx.all("PRAGMA journal_mode"), { readOnly: true });
    expect(Object.values(mode[0]!)[0]).toBe("wal");
  });
});
