import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Logger } from "../util/logger.js";
import { type Eip2335Keystore, type KdfLimits, kdfParams } from "./eip2335.js";
import {
  BUCKET_SIZE,
  BucketKeys,
  type CacheEntry,
  type KeyCacheDocument,
  openBucket,
  readKeyCache,
  type SealedBucket,
  sealAll,
  sealBucket,
  writeKeyCache,
} from "./keyCache.js";
import {
  type KeyLoadFailure,
  keyLoadFailure,
  type LoadedBlsKey,
  type LoadOptions,
  listKeystoreFolder,
  loadKeystoreBytes,
  passwordReader,
  readPasswordFor,
  runAll,
} from "./keystoreDir.js";

export interface CachedLoadOptions extends LoadOptions {
  /** The key cache file (created, mode 0600). */
  cacheFile: string;
  logger: Logger;
}

/** Where a load's time went (milliseconds of wall clock), for the start-up log line and benches. */
export interface CachedLoadPhases {
  /** Folder listing, password files, the cache file read and parsed. */
  list: number;
  /** Keystore files read and hashed (while the bucket derivations run on libuv's pool). */
  read: number;
  /** Waiting for the rest of the bucket derivations and opening the buckets. */
  open: number;
  /** Checksums compared and each served keystore's KDF checked against today's limits. */
  check: number;
  /** Keystores decrypted (those not served from the cache). */
  decrypt: number;
  /** The cache re-sealed and written (only when something differed). */
  write: number;
  /** Bucket key derivations run (buckets with the same passwords share one). */
  derivations: number;
}

export interface CachedLoadResult {
  keys: LoadedBlsKey[];
  failures: KeyLoadFailure[];
  /** Keys served from the cache, and keys decrypted from their keystores. */
  fromCache: number;
  decrypted: number;
  phases: CachedLoadPhases;
}

/** A keystore as found now: its content and checksum, and its password (or why there is none). */
interface Current {
  file: string;
  bytes: Buffer | null;
  checksum: Uint8Array;
  password: string | null;
  error: unknown;
}

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(hash("sha256", b, "buffer"));
const view = (a: Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => view(a).equals(view(b));

/** The keystore's password, read first (the bucket derivations need only the passwords). */
function passwordOf(file: string, password: (file: string) => string): Current {
  const c: Current = { file, bytes: null, checksum: new Uint8Array(32), password: null, error: null };
  try {
    c.password = password(file);
  } catch (e) {
    c.error = e;
  }
  return c;
}

/** Reads and hashes the keystore file; an unreadable file's error goes before a missing password's. */
function readBytes(c: Current): void {
  try {
    c.bytes = readFileSync(c.file);
    c.checksum = sha256(c.bytes);
  } catch (e) {
    c.error = e;
  }
}

/**
 * The keystore is still admissible under today's KDF limits (they may have been lowered since). Only
 * the KDF part is checked: the file is byte for byte the one that was decrypted and fully checked
 * when its key was cached (same SHA-256).
 */
function withinLimits(c: Current, limits: KdfLimits | undefined): boolean {
  try {
    kdfParams(JSON.parse(c.bytes!.toString("utf8")) as Eip2335Keystore, limits);
    return true;
  } catch {
    return false;
  }
}

/** Reads the cache for an update; a damaged one is dropped with a warning (the next start rebuilds it). */
function readForUpdate(path: string, logger: Logger): KeyCacheDocument["buckets"] {
  try {
    return readKeyCache(path)?.buckets ?? [];
  } catch {
    logger.warn("Key cache is damaged; ignoring it", { file: path });
    return [];
  }
}

/** Milliseconds since the last call. */
function lap(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const ms = Math.round(now - last);
    last = now;
    return ms;
  };
}

/**
 * Loads a keystore folder through the key cache: keys whose keystore file and password are unchanged
 * come from the cache; every other keystore is decrypted (on all cores) exactly as without a cache.
 * The cache is then rewritten if anything differed. A cache that cannot be read or verified is
 * ignored with a warning and rebuilt; a cache that cannot be written only costs a warning.
 *
 * Order, for speed: the passwords and the cache file are read first, and every bucket's key
 * derivation is queued on libuv's pool at once; the keystore files are read and hashed on this thread
 * meanwhile. A bucket's entries are served only after both are known (the bucket verified under the
 * current passwords, and each entry's checksum equal to its keystore file's as read now).
 */
export async function loadKeystoreDirCached(dir: string, opts: CachedLoadOptions): Promise<CachedLoadResult> {
  const { logger, cacheFile } = opts;
  const elapsed = lap();
  const phases: CachedLoadPhases = { list: 0, read: 0, open: 0, check: 0, decrypt: 0, write: 0, derivations: 0 };
  const folder = listKeystoreFolder(dir);
  const password = passwordReader(folder, opts.passwordsDir);
  const current = new Map<string, Current>();
  for (const file of folder.files) current.set(basename(file), passwordOf(file, password));

  let doc: KeyCacheDocument | null = null;
  let dirty = false;
  try {
    doc = readKeyCache(cacheFile);
  } catch {
    logger.warn("Key cache is damaged; ignoring it and decrypting the keystores", { file: cacheFile });
    dirty = true;
  }
  const served = new Map<string, LoadedBlsKey>();
  const intact: SealedBucket[] = [];
  const keys = new BucketKeys();
  try {
    const seen = new Set<string>();
    const openable = (doc?.buckets ?? []).filter((b) => {
      // a member gone, or without its password, and the bucket cannot be opened: its keystores load
      const ok = b.files.every((f) => current.get(f)?.password != null && !seen.has(f));
      for (const f of b.files) seen.add(f);
      if (!ok) dirty = true;
      return ok;
    });
    const opening = Promise.all(
      openable.map((b) =>
        openBucket(
          b,
          b.files.map((f) => current.get(f)!.password!),
          keys,
        ),
      ),
    );
    phases.list = elapsed();
    for (const c of current.values()) readBytes(c);
    phases.read = elapsed();
    const opened = await opening;
    phases.derivations = keys.derivations;
    phases.open = elapsed();
    opened.forEach((entries, i) => {
      if (entries === null) {
        logger.warn(
          "Key cache bucket does not verify (a password changed, or the cache is damaged); decrypting its keystores",
          { file: cacheFile, keystores: openable[i]!.files.length },
        );
        dirty = true;
        return;
      }
      let allFresh = true;
      for (const e of entries) {
        const cur = current.get(e.name)!;
        if (cur.bytes !== null && sameBytes(e.checksum, cur.checksum) && withinLimits(cur, opts.kdfLimits))
          served.set(e.name, { pubkey: e.pubkey, secret: e.secret, file: cur.file });
        else {
          // the keystore changed since it was cached (or is now above the KDF limits): never serve
          // the cached key, decrypt the file and get the same answer as without a cache
          e.secret.fill(0);
          allFresh = false;
        }
      }
      if (allFresh) intact.push(openable[i]!);
      else dirty = true;
    });
    phases.check = elapsed();
  } finally {
    await keys.dispose();
  }

  const rest = [...current.values()].filter((c) => !served.has(basename(c.file)));
  const loaded = await runAll(
    rest.length,
    async (i) => {
      const c = rest[i]!;
      if (c.bytes === null || c.password === null) throw c.error;
      return loadKeystoreBytes(c.file, c.bytes, c.password, opts.kdfLimits);
    },
    (i, e) => keyLoadFailure(rest[i]!.file, e),
    opts,
  );
  if (loaded.keys.length > 0) dirty = true;
  phases.decrypt = elapsed();

  // small buckets (keys imported one request at a time) are merged once there are several
  const small = intact.filter((b) => b.files.length < BUCKET_SIZE / 2);
  const keep = small.length > 1 ? intact.filter((b) => b.files.length >= BUCKET_SIZE / 2) : intact;
  if (keep.length !== intact.length) dirty = true;
  if (dirty) {
    const kept = new Set(keep.flatMap((b) => b.files));
    const fresh: CacheEntry[] = [...served.values(), ...loaded.keys]
      .filter((k) => !kept.has(basename(k.file)))
      .map((k) => {
        const name = basename(k.file);
        return { name, checksum: current.get(name)!.checksum, pubkey: k.pubkey, secret: k.secret };
      });
    try {
      const sealed = await sealAll(fresh, (name) => current.get(name)!.password!);
      writeKeyCache(cacheFile, [...keep, ...sealed]);
    } catch (e) {
      logger.warn("Key cache not written; the next start decrypts the keystores again", { file: cacheFile }, e);
    }
  }
  phases.write = elapsed();
  for (const c of current.values()) c.bytes = null;
  const out = [...served.values(), ...loaded.keys].sort((a, b) => (a.file < b.file ? -1 : 1));
  return { keys: out, failures: loaded.failures, fromCache: served.size, decrypted: loaded.keys.length, phases };
}

export interface KeyCacheUpdaterOptions {
  file: string;
  /** The keystore folder the cache belongs to, and the passwords folder if not beside the keystores. */
  dir: string;
  passwordsDir?: string;
}

/** A keystore added through the keymanager API: its file, content and password, and the key. */
export interface AddedKeystore {
  file: string;
  bytes: Uint8Array;
  password: string;
  pubkey: Uint8Array;
  secret: Uint8Array;
}

/** Keeps the cache in step with keys added and removed through the keymanager API. */
export class KeyCacheUpdater {
  constructor(
    private readonly opts: KeyCacheUpdaterOptions,
    private readonly m: { logger: Logger },
  ) {}

  /** Seals the added keys in new buckets (secrets are copied, the caller's are untouched). */
  async add(items: readonly AddedKeystore[]): Promise<void> {
    if (items.length === 0) return;
    const buckets = readForUpdate(this.opts.file, this.m.logger);
    const entries = items.map((it) => ({
      name: basename(it.file),
      checksum: sha256(it.bytes),
      pubkey: it.pubkey,
      secret: it.secret,
    }));
    const pw = new Map(items.map((it) => [basename(it.file), it.password]));
    const sealed = await sealAll(entries, (n) => pw.get(n)!);
    const names = new Set(pw.keys());
    writeKeyCache(this.opts.file, [...buckets.filter((b) => !b.files.some((f) => names.has(f))), ...sealed]);
  }

  /**
   * Drops keystores from the cache; call it before their files are deleted (a bucket is re-sealed
   * with its other members, which needs every member's password). A bucket that cannot be opened is
   * dropped: its keystores are decrypted at the next start.
   */
  async remove(files: readonly string[]): Promise<void> {
    if (files.length === 0) return;
    const gone = new Set(files.map((f) => basename(f)));
    const out: SealedBucket[] = [];
    for (const b of readForUpdate(this.opts.file, this.m.logger)) {
      if (!b.files.some((f) => gone.has(f))) {
        out.push(b);
        continue;
      }
      const pw = new Map<string, string>();
      try {
        for (const f of b.files) pw.set(f, readPasswordFor(join(this.opts.dir, f), this.opts.passwordsDir));
      } catch {
        continue;
      }
      const entries = await openBucket(
        b,
        b.files.map((f) => pw.get(f)!),
      );
      if (entries === null) continue;
      const left = entries.filter((e) => !gone.has(e.name));
      for (const e of entries) if (gone.has(e.name)) e.secret.fill(0);
      if (left.length > 0)
        out.push(
          await sealBucket(
            left,
            left.map((e) => pw.get(e.name)!),
          ),
        );
      for (const e of left) e.secret.fill(0);
    }
    writeKeyCache(this.opts.file, out);
  }
}
