/**
 * Keystore sets for the start-up benches (bench/keyCache.ts): N scrypt keystores (n = 2^18, r = 8, as
 * staking-deposit-cli writes them), optionally with the key cache a first start would write.
 *
 * Keystores are made cheaply: one scrypt derivation (one password, one salt) encrypts every key, each
 * with its own key and IV. The signer cannot tell: each still costs a full n = 2^18 derivation to
 * decrypt. A set is kept in `<root>/<n>` (default /tmp/slashguard-bench-keys) and reused by later runs
 * (`.complete` marks a whole set); the cache file is rewritten per run from `<n>.cache-entries.bin`.
 * Password files are mode 0600, as the signer asks (else it logs a warning per file at start).
 *
 *   node --import tsx bench/keyCacheKeys.ts 10000 [root]
 */
import { createCipheriv, createHash, randomBytes, randomUUID, scrypt } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { KEY_CACHE_FILE } from "../src/cli/signer/ethereumSection.js";
import { type CacheEntry, sealAll, writeKeyCache } from "../src/keys/keyCache.js";

export const SCRYPT_N = 262_144;
export const BENCH_PASSWORD = "bench-password";
export const DEFAULT_KEYS_ROOT = "/tmp/slashguard-bench-keys";

export const deriveScrypt = (pw: Buffer, salt: Buffer): Promise<Buffer> =>
  new Promise((res, rej) =>
    scrypt(pw, salt, 32, { N: SCRYPT_N, r: 8, p: 1, maxmem: 300 << 20 }, (e, k) => (e ? rej(e) : res(k))),
  );

const ENTRY = 32 + 48 + 32;

/** The folder of n keystores under root, generated once (without a cache file). */
export async function keystoreSet(root: string, n: number): Promise<string> {
  const dir = join(root, String(n));
  if (existsSync(join(dir, ".complete"))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const salt = randomBytes(32);
  const dk = await deriveScrypt(Buffer.from(BENCH_PASSWORD), salt);
  const entries = Buffer.alloc(ENTRY * n);
  for (let i = 0; i < n; i++) {
    const sk = blst.SecretKey.fromKeygen(randomBytes(32));
    const secret = sk.toBytes();
    const pubkey = sk.toPublicKey().toBytes();
    const iv = randomBytes(16);
    const c = createCipheriv("aes-128-ctr", dk.subarray(0, 16), iv);
    const ct = Buffer.concat([c.update(secret), c.final()]);
    const ks = {
      crypto: {
        kdf: {
          function: "scrypt",
          params: { dklen: 32, n: SCRYPT_N, r: 8, p: 1, salt: salt.toString("hex") },
          message: "",
        },
        checksum: {
          function: "sha256",
          params: {},
          message: createHash("sha256").update(dk.subarray(16, 32)).update(ct).digest("hex"),
        },
        cipher: { function: "aes-128-ctr", params: { iv: iv.toString("hex") }, message: ct.toString("hex") },
      },
      description: "",
      pubkey: Buffer.from(pubkey).toString("hex"),
      path: `m/12381/3600/${i}/0/0`,
      uuid: randomUUID(),
      version: 4,
    };
    const name = `keystore-${String(i).padStart(6, "0")}`;
    const json = JSON.stringify(ks);
    writeFileSync(join(dir, `${name}.json`), json);
    writeFileSync(join(dir, `${name}.txt`), BENCH_PASSWORD, { mode: 0o600 });
    entries.set(createHash("sha256").update(json).digest(), ENTRY * i);
    entries.set(pubkey, ENTRY * i + 32);
    entries.set(secret, ENTRY * i + 80);
  }
  writeFileSync(join(dir, "..", `${n}.cache-entries.bin`), entries, { mode: 0o600 });
  writeFileSync(join(dir, ".complete"), "");
  return dir;
}

/** Writes the key cache of a set as a first start would (sealed with the signer's own library). */
export async function writeSetCache(root: string, n: number): Promise<void> {
  const dir = await keystoreSet(root, n);
  const raw = readFileSync(join(root, `${n}.cache-entries.bin`));
  const entries: CacheEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = ENTRY * i;
    entries.push({
      name: `keystore-${String(i).padStart(6, "0")}.json`,
      checksum: raw.subarray(o, o + 32),
      pubkey: raw.subarray(o + 32, o + 80),
      secret: raw.subarray(o + 80, o + ENTRY),
    });
  }
  writeKeyCache(join(dir, KEY_CACHE_FILE), await sealAll(entries, () => BENCH_PASSWORD));
}

/** Removes a set's cache file (a cold start). */
export function dropSetCache(dir: string): void {
  rmSync(join(dir, KEY_CACHE_FILE), { force: true });
}

if (process.argv[1]?.endsWith("keyCacheKeys.ts")) {
  const n = Number(process.argv[2] ?? "1000");
  const root = process.argv[3] ?? DEFAULT_KEYS_ROOT;
  await writeSetCache(root, n);
  console.log(join(root, String(n)));
}
