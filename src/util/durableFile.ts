import { randomBytes } from "node:crypto";
import { closeSync, fchownSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * The one durable-file writer. A write leaves, after a crash, either the old or the new content, never a mix:
 * a temp file with a unique name in the same directory (O_EXCL, so two writers of one path never share it),
 * write, fsync, rename over the target, fsync of the directory (so the rename itself is durable). On failure
 * the temp file is removed and the target is untouched.
 */
export interface DurableWriteOptions {
  /** File mode of the new file. Default: the replaced file's mode, or 0600 for a new file. */
  mode?: number;
  /**
   * When running as root, give the new file the owner of the file it replaces (or of the directory), so a
   * process that runs as another user (a validator node) can still read it. Default false.
   */
  keepOwner?: boolean;
}

/** A temp name next to `path`, unique per call (pid + random), hidden. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Flushes a directory, so that a rename or unlink inside it survives a crash. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Writes `path` durably (see above), synchronously. `mode` defaults to 0600 (most callers write secrets);
 * pass options for another mode or to keep the replaced file's mode and owner.
 */
export function writeFileDurable(
  path: string,
  data: string | Uint8Array,
  mode: number | DurableWriteOptions = 0o600,
): void {
  const opts = typeof mode === "number" ? { mode } : mode;
  const dir = dirname(path);
  const needStat = opts.mode === undefined || (opts.keepOwner === true && isRoot());
  const existing = needStat ? tryStat(path) : null;
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, "wx", opts.mode ?? (existing === null ? 0o600 : existing.mode & 0o777));
  let closed = false;
  try {
    const bytes = toBytes(data);
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    if (opts.keepOwner === true && isRoot()) {
      const owner = existing ?? statSync(dir);
      fchownSync(fd, owner.uid, owner.gid);
    }
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    if (!closed) {
      try {
        closeSync(fd);
      } catch {}
    }
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
  fsyncDir(dir);
}

function tryStat(path: string): { mode: number; uid: number; gid: number } | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Writes `path` durably (see above) without blocking the event loop on the fsyncs. */
export async function writeFileDurableAsync(
  path: string,
  data: string | Uint8Array,
  opts: DurableWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const keepOwner = opts.keepOwner === true && isRoot();
  const existing = opts.mode === undefined || keepOwner ? await stat(path).catch(() => null) : null;
  const tmp = tempPathFor(path);
  const fh = await open(tmp, "wx", opts.mode ?? (existing === null ? 0o600 : existing.mode & 0o777));
  let closed = false;
  try {
    await fh.writeFile(data);
    if (keepOwner) {
      const owner = existing ?? (await stat(dir));
      await fh.chown(owner.uid, owner.gid);
    }
    await fh.sync();
    closed = true;
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    if (!closed) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
