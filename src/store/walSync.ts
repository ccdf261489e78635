import { type BigIntStats, closeSync, fdatasync, fstatSync, openSync, readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir } from "../util/durableFile.js";
import { StoreError, StoreErrorCode } from "./errors.js";

export type SyncFn = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

/**
 * Makes SQLite WAL commits durable off the event loop. The connection runs `synchronous=NORMAL` (the
 * WAL is synced before every checkpoint, the database after it) and every commit then waits here for an
 * fdatasync of the WAL file on libuv's thread pool: the same disk guarantee as `synchronous=FULL`, which
 * syncs the WAL inside COMMIT, but without blocking the event loop for the length of an fsync.
 *
 * Commits that arrive while a sync is still waiting to start share it; a sync that is already running
 * may have missed a later commit's frames, so that commit waits for the next one.
 */
export class WalSync {
  private fd: number | null = null;
  private running: Promise<void> = Promise.resolve();
  private next: Promise<void> | null = null;
  /** After a failed fsync the kernel may have dropped the dirty pages: nothing is trusted any more. */
  private failed: StoreError | null = null;

  constructor(
    private readonly walPath: string,
    private readonly syncFn: SyncFn = fdatasync,
  ) {}

  /** Resolves once every WAL frame written before the call is on disk. */
  durable(): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.next !== null) return this.next;
    const next = this.running.then(() => {
      this.next = null; // commits from here on need a sync that starts after them
      return this.sync();
    });
    this.next = next;
    this.running = next.catch(() => undefined);
    return next;
  }

  /** The error that stopped this store trusting its disk, if any (for health checks). */
  get failure(): StoreError | null {
    return this.failed;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private sync(): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException): void => {
        this.failed = new StoreError(
          { code: StoreErrorCode.Unavailable, cause: err.code ?? "EIO" },
          `could not make the SQLite write-ahead log durable (${err.code ?? err.message}); restart after checking the disk`,
        );
        reject(this.failed);
      };
      let fd: number;
      try {
        fd = this.open();
      } catch (e) {
        return fail(e as NodeJS.ErrnoException);
      }
      this.syncFn(fd, (err) => (err === null ? resolve() : fail(err)));
    });
  }

  /**
   * The WAL exists once the first transaction ran; its directory entry is synced once, as SQLite does.
   * The file opened must be the one the connection writes: its inode must be open in this process
   * under another descriptor (SQLite's), else nothing would make the commits durable (fail closed).
   */
  private open(): number {
    if (this.fd === null) {
      const fd = openSync(this.walPath, "r");
      if (!openElsewhere(fd)) {
        closeSync(fd);
        throw Object.assign(new Error(`${this.walPath} is not the write-ahead log SQLite has open`), {
          code: "EWALMISMATCH",
        });
      }
      this.fd = fd;
      fsyncDir(dirname(this.walPath));
    }
    return this.fd;
  }
}

/**
 * Whether the file behind `fd` is open in this process under another descriptor: the check that the
 * WAL we sync is the WAL SQLite writes. Reads /proc/self/fd (or /dev/fd); false when neither can be read.
 */
function openElsewhere(fd: number): boolean {
  const mine = fstatSync(fd, { bigint: true });
  const same = (s: BigIntStats): boolean => s.dev === mine.dev && s.ino === mine.ino;
  for (const dir of ["/proc/self/fd", "/dev/fd"]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const other = Number(name);
      if (!Number.isInteger(other) || other === fd) continue;
      try {
        if (same(fstatSync(other, { bigint: true }))) return true;
      } catch {
        // closed meanwhile (the descriptor that read the folder, or another thread's)
      }
    }
    return false;
  }
  return false;
}
