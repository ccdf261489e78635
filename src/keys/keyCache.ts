/**
 * The key cache file: decrypted validator keys kept so that a restart skips the keystores' scrypt
 * (about a second of one core per keystore). Keys are grouped in buckets of up to BUCKET_SIZE
 * keystores; each bucket is sealed with AES-256-GCM under a key derived, with a fast scrypt, from
 * its members' own passwords, and holds per member the SHA-256 of the keystore file it was decrypted
 * from. A bucket opens only when every member's current password is the one it was sealed with, and a
 * member is served only while its keystore file has the same checksum: any change falls back to the
 * keystore for what changed (and to the keystores of one bucket for a changed password).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFileDurable } from "../util/durableFile.js";

export const KEY_CACHE_VERSION = 1;
/** Keystores per bucket: a changed password re-decrypts at most this many keystores. */
export const BUCKET_SIZE = 64;
/** scrypt n = 2^12, r = 8: 4 MiB and ~15 ms per bucket (the passwords of 64 keystores together). */
export const CACHE_KDF = { function: "scrypt", n: 4096, r: 8, p: 1 } as const;

const CHECKSUM = 32;
const PUBKEY = 48;
const SECRET = 32;
const ENTRY = CHECKSUM + PUBKEY + SECRET;

/** One sealed bucket as stored: member file names (relative to the keystore folder) in the clear. */
export interface SealedBucket {
  files: string[];
  salt: string;
  iv: string;
  data: string;
  tag: string;
}

export interface KeyCacheDocument {
  version: typeof KEY_CACHE_VERSION;
  kdf: typeof CACHE_KDF;
  buckets: SealedBucket[];
}

/** A cached key: which keystore content it came from, and the key. */
export interface CacheEntry {
  /** Keystore file name, relative to the keystore folder. */
  name: string;
  checksum: Uint8Array;
  pubkey: Uint8Array;
  secret: Uint8Array;
}

export class KeyCacheInvalidError extends Error {}

const SAFE_NAME = /^[^/\\\0]{1,250}\.json$/;

/** Parses a cache file; anything not exactly our format (version, KDF, field shapes) throws. */
export function parseKeyCache(text: string): KeyCacheDocument {
  const d = JSON.parse(text) as KeyCacheDocument;
  const bad = (what: string): never => {
    throw new KeyCacheInvalidError(what);
  };
  if (typeof d !== "object" || d === null || d.version !== KEY_CACHE_VERSION) bad("version");
  // the KDF is ours, fixed: a cache asking for more work (a tampered file) is not opened at all
  const k = d.kdf;
  if (k?.function !== CACHE_KDF.function || k.n !== CACHE_KDF.n || k.r !== CACHE_KDF.r || k.p !== CACHE_KDF.p)
    bad("kdf");
  if (!Array.isArray(d.buckets)) bad("buckets");
  for (const b of d.buckets) {
    if (typeof b !== "object" || b === null || !Array.isArray(b.files) || b.files.length === 0) bad("bucket files");
    // names of files in the keystore folder itself, nothing else (they are joined to its path)
    if (b.files.length > BUCKET_SIZE * 4 || !b.files.every((f) => typeof f === "string" && SAFE_NAME.test(f)))
      bad("bucket files");
    for (const f of ["salt", "iv", "data", "tag"] as const) if (typeof b[f] !== "string") bad(`bucket ${f}`);
  }
  return d;
}

/** Reads the cache file: null when there is none; throws KeyCacheInvalidError / SyntaxError when damaged. */
export function readKeyCache(path: string): KeyCacheDocument | null {
  if (!existsSync(path)) return null;
  return parseKeyCache(readFileSync(path, "utf8"));
}

/** Writes the cache atomically (temp file, fsync, rename), mode 0600. */
export function writeKeyCache(path: string, buckets: SealedBucket[]): void {
  const doc: KeyCacheDocument = { version: KEY_CACHE_VERSION, kdf: CACHE_KDF, buckets };
  writeFileDurable(path, JSON.stringify(doc), 0o600);
}

/** The KDF input for a bucket: its members' passwords, length-prefixed (no two lists give the same input). */
function kdfInput(passwords: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of passwords) {
    const b = Buffer.from(p, "utf8");
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

/**
 * Bucket keys of one load or write. Buckets sealed together share a salt (one random salt per
 * writing), so buckets whose members have the same passwords (one password for a whole deposit, the
 * common case) share one derivation instead of one each. A guess still costs the same scrypt, the
 * salt is still fresh per cache file, and each bucket still has its own random IV under AES-GCM.
 * Derivations start at once, queued on libuv's pool (which bounds how many run), so they proceed
 * while the caller reads keystores. `dispose()` wipes every derived key.
 */
export class BucketKeys {
  private readonly keys = new Map<string, Promise<Buffer>>();

  derive(passwords: readonly string[], salt: Buffer): Promise<Buffer> {
    const input = kdfInput(passwords);
    // the memo is keyed by a hash of salt and passwords, never the passwords themselves
    const id = createHash("sha256").update(salt).update(input).digest("base64");
    let key = this.keys.get(id);
    if (key === undefined) {
      key = new Promise((res, rej) =>
        scrypt(input, salt, 32, { N: CACHE_KDF.n, r: CACHE_KDF.r, p: CACHE_KDF.p }, (e, k) => {
          input.fill(0);
          if (e) rej(e);
          else res(k);
        }),
      );
      this.keys.set(id, key);
    } else input.fill(0);
    return key;
  }

  /** Derivations actually run (distinct salt and password lists). */
  get derivations(): number {
    return this.keys.size;
  }

  async dispose(): Promise<void> {
    const all = await Promise.allSettled(this.keys.values());
    for (const r of all) if (r.status === "fulfilled") r.value.fill(0);
    this.keys.clear();
  }
}

/** The names are authenticated with the data: a bucket's member list cannot be edited. */
const aad = (files: readonly string[]): Buffer => Buffer.from(JSON.stringify([KEY_CACHE_VERSION, files]), "utf8");

/** Runs fn with `keys`, or with keys of its own that are wiped afterwards. */
async function withKeys<R>(keys: BucketKeys | undefined, fn: (k: BucketKeys) => Promise<R>): Promise<R> {
  if (keys !== undefined) return fn(keys);
  const own = new BucketKeys();
  try {
    return await fn(own);
  } finally {
    await own.dispose();
  }
}

/**
 * Seals entries (all with their passwords, in the same order) into one bucket. `salt`/`keys`: those of
 * the writing the bucket is part of (see BucketKeys); by default a fresh salt and key of its own.
 */
export function sealBucket(
  entries: readonly CacheEntry[],
  passwords: readonly string[],
  salt: Buffer = randomBytes(32),
  keys?: BucketKeys,
): Promise<SealedBucket> {
  return withKeys(keys, async (k) => {
    const files = entries.map((e) => e.name);
    const iv = randomBytes(12);
    const key = await k.derive(passwords, salt);
    const plain = Buffer.alloc(ENTRY * entries.length);
    entries.forEach((e, i) => {
      plain.set(e.checksum, ENTRY * i);
      plain.set(e.pubkey, ENTRY * i + CHECKSUM);
      plain.set(e.secret, ENTRY * i + CHECKSUM + PUBKEY);
    });
    const c = createCipheriv("aes-256-gcm", key, iv);
    c.setAAD(aad(files));
    const data = Buffer.concat([c.update(plain), c.final()]);
    plain.fill(0);
    return {
      files,
      salt: salt.toString("hex"),
      iv: iv.toString("hex"),
      data: data.toString("base64"),
      tag: c.getAuthTag().toString("hex"),
    };
  });
}

/** Opens a bucket with its members' current passwords: null when it does not verify. */
export function openBucket(
  b: SealedBucket,
  passwords: readonly string[],
  keys?: BucketKeys,
): Promise<CacheEntry[] | null> {
  const salt = Buffer.from(b.salt, "hex");
  const iv = Buffer.from(b.iv, "hex");
  const tag = Buffer.from(b.tag, "hex");
  const data = Buffer.from(b.data, "base64");
  if (salt.length !== 32 || iv.length !== 12 || tag.length !== 16 || data.length !== ENTRY * b.files.length)
    return Promise.resolve(null);
  return withKeys(keys, async (k) => {
    const key = await k.derive(passwords, salt);
    let plain: Buffer;
    try {
      const d = createDecipheriv("aes-256-gcm", key, iv);
      d.setAAD(aad(b.files));
      d.setAuthTag(tag);
      plain = Buffer.concat([d.update(data), d.final()]);
    } catch {
      return null;
    }
    const out = b.files.map((name, i) => ({
      name,
      checksum: new Uint8Array(plain.subarray(ENTRY * i, ENTRY * i + CHECKSUM)),
      pubkey: new Uint8Array(plain.subarray(ENTRY * i + CHECKSUM, ENTRY * i + CHECKSUM + PUBKEY)),
      secret: new Uint8Array(plain.subarray(ENTRY * i + CHECKSUM + PUBKEY, ENTRY * (i + 1))),
    }));
    plain.fill(0);
    return out;
  });
}

/**
 * Seals entries in buckets of BUCKET_SIZE under one fresh salt (buckets with the same passwords share
 * a derivation); the derivations run on libuv's pool. `password(name)` gives each member's password.
 */
export function sealAll(entries: readonly CacheEntry[], password: (name: string) => string): Promise<SealedBucket[]> {
  const groups: CacheEntry[][] = [];
  for (let i = 0; i < entries.length; i += BUCKET_SIZE) groups.push(entries.slice(i, i + BUCKET_SIZE));
  const salt = randomBytes(32);
  return withKeys(undefined, (keys) =>
    Promise.all(
      groups.map((g) =>
        sealBucket(
          g,
          g.map((e) => password(e.name)),
          salt,
          keys,
        ),
      ),
    ),
  );
}
