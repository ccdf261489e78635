import { fdatasync, fstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { SqliteStore } from "../../../src/store/sqliteStore.js";
import type { SyncFn } from "../../../src/store/walSync.js";
import { WalSync } from "../../../src/store/walSync.js";

/**
 * Issue 14 defect 10: the WAL fdatasync must reach the file SQLite writes. SQLite resolves a symlinked
 * database file and writes its WAL beside the real file; syncing `${given path}-wal` synced another
 * file (a stale one left beside the link) or failed, and an answer could leave unsynced.
 */
describe("SQLite WAL sync follows the file SQLite writes", () => {
  let dir: string;
  let store: SqliteStore | null = null;
  afterEach(async () => {
    await store?.close();
    store = null;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A real fdatasync that remembers the (device, inode) of every file it synced. */
  function recordingSync(): { fn: SyncFn; synced: string[] } {
    const synced: string[] = [];
    const fn: SyncFn = (fd, cb) => {
      const st = fstatSync(fd);
      synced.push(`${st.dev}:${st.ino}`);
      fdatasync(fd, cb);
    };
    return { fn, synced };
  }
  const inode = (path: string): string => {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  };

  const layouts: [string, (d: string) => { url: string; path: string; real: string }][] = [
    [
      "a symlinked database file, with a stale WAL left beside the link",
      (d) => {
        mkdirSync(join(d, "disk"));
        const real = join(d, "disk", "real.db");
        writeFileSync(real, "");
        symlinkSync(real, join(d, "link.db"));
        writeFileSync(join(d, "link.db-wal"), "stale"); // what the old code synced instead
        return { url: "", path: join(d, "link.db"), real };
      },
    ],
    [
      "a symlinked database file (relative link)",
      (d) => {
        mkdirSync(join(d, "disk"));
        writeFileSync(join(d, "disk", "real.db"), "");
        symlinkSync(join("disk", "real.db"), join(d, "link.db"));
        return { url: "", path: join(d, "link.db"), real: join(d, "disk", "real.db") };
      },
    ],
    [
      "a symlinked folder",
      (d) => {
        mkdirSync(join(d, "disk"));
        symlinkSync(join(d, "disk"), join(d, "data"));
        return { url: "", path: join(d, "data", "sg.db"), real: join(d, "disk", "sg.db") };
      },
    ],
    ["a plain file", (d) => ({ url: "", path: join(d, "sg.db"), real: join(d, "sg.db") })],
  ];

  for (const [name, layout] of layouts) {
    it(`${name}: every commit syncs the WAL SQLite writes`, async () => {
      dir = mkdtempSync(join(tmpdir(), "sg-walpath-"));
      const { path, real } = layout(dir);
      const sync = recordingSync();
      store = await SqliteStore.open(`sqlite:${path}`, path, { syncFn: sync.fn });
      await store.tx((tx) => tx.run("CREATE TABLE t (v INTEGER)"));
      await store.tx((tx) => tx.run("INSERT INTO t VALUES (1)"));
      const wal = inode(`${real}-wal`);
      expect(sync.synced.length).toBeGreaterThan(0);
      expect(new Set(sync.synced)).toEqual(new Set([wal]));
    });
  }

  it("fails closed when the WAL file it would sync is not the one SQLite has open", async () => {
    dir = mkdtempSync(join(tmpdir(), "sg-walpath-"));
    const path = join(dir, "sg.db");
    store = await SqliteStore.open(`sqlite:${path}`, path);
    await store.tx((tx) => tx.run("CREATE TABLE t (v INTEGER)"));
    // a WalSync pointed at another file than the connection's WAL (the old code's mistake) refuses
    writeFileSync(join(dir, "other.db-wal"), "");
    const wrong = new WalSync(join(dir, "other.db-wal"));
    await expect(wrong.durable()).rejects.toMatchObject({ code: StoreErrorCode.Unavailable });
    wrong.close();
  });
});
