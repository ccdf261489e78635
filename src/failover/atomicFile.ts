import { randomBytes } from "node:crypto";
import { open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Replaces a file so that a crash leaves either the old or the new content, durably: temp file in the same
 * directory (O_EXCL), write, fsync, rename over the target, fsync the directory (CometBFT's own writer skips
 * the last step). The new file keeps the owner of the file it replaces (or of the directory), so a node that
 * runs as another user can still read it when slashguard runs as root. `mode` defaults to the replaced file's.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const existing = await stat(path).catch(() => null);
  const owner = existing ?? (await stat(dir));
  // default: keep the replaced file's mode; a new file is private
  const fh = await open(tmp, "wx", mode ?? (existing === null ? 0o600 : existing.mode & 0o777));
  try {
    await fh.writeFile(data);
    if (process.getuid?.() === 0) await fh.chown(owner.uid, owner.gid);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
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
