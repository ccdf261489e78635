import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { encryptKeystore } from "../../../src/keys/eip2335.js";
import { KeyErrorCode } from "../../../src/keys/errors.js";
import { BUCKET_SIZE, readKeyCache } from "../../../src/keys/keyCache.js";
import { KeyCacheUpdater, loadKeystoreDirCached } from "../../../src/keys/keystoreDirCached.js";
import { toHex } from "../../../src/util/hex.js";
import { type Logger, nullLogger } from "../../../src/util/logger.js";
import { tempDir } from "../../utils/stores.js";

/** A logger that keeps its warnings (the cache's only signal that it ignored itself). */
function warnings(): { logger: Logger; warned: string[] } {
  const warned: string[] = [];
  const logger: Logger = { ...nullLogger, warn: (m) => void warned.push(m), child: () => logger };
  return { logger, warned };
}

/** NAME.json (a cheap scrypt: the cache's rules do not depend on the keystore's work) and NAME.txt. */
async function writeKey(dir: string, name: string, seed: number, password: string, n = 16): Promise<string> {
  const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(seed));
  const pk = sk.toPublicKey().toBytes();
  const ks = await encryptKeystore(sk.toBytes(), pk, password, { kdf: "scrypt", work: n });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(ks));
  writeFileSync(join(dir, `${name}.txt`), password);
  return toHex(pk);
}

describe("key cache", () => {
  let t: ReturnType<typeof tempDir>;
  afterEach(() => t?.cleanup());

  async function setUp(count: number): Promise<{ dir: string; cacheFile: string; pubkeys: string[] }> {
    t = tempDir("sg-keycache-");
    const pubkeys: string[] = [];
    for (let i = 0; i < count; i++)
      pubkeys.push(await writeKey(t.dir, `k${String(i).padStart(3, "0")}`, i + 1, `pw${i}`));
    return { dir: t.dir, cacheFile: join(t.dir, ".cache"), pubkeys };
  }
  const load = (dir: string, cacheFile: string, logger: Logger = nullLogger, extra = {}) =>
    loadKeystoreDirCached(dir, { cacheFile, logger, ...extra });
  const hexes = (r: { keys: { pubkey: Uint8Array }[] }) => r.keys.map((k) => toHex(k.pubkey));

  it("a keystore replaced by another key under the same name is decrypted, never served from the cache", async () => {
    const { dir, cacheFile, pubkeys } = await setUp(3);
    expect((await load(dir, cacheFile)).decrypted).toBe(3);
    const replaced = await writeKey(dir, "k001", 99, "pw1");
    const r = await load(dir, cacheFile);
    expect(hexes(r)).toEqual([pubkeys[0], replaced, pubkeys[2]]);
    expect(r).toMatchObject({ fromCache: 2, decrypted: 1 });
    // and the cache now holds the new key
    const again = await load(dir, cacheFile);
    expect(hexes(again)).toEqual([pubkeys[0], replaced, pubkeys[2]]);
    expect(again).toMatchObject({ fromCache: 3, decrypted: 0 });
  });

  it("a changed password with the same keystore fails as without a cache; the bucket's others are decrypted", async () => {
    const { dir, cacheFile, pubkeys } = await setUp(3);
    await load(dir, cacheFile);
    writeFileSync(join(dir, "k001.txt"), "another");
    const { logger, warned } = warnings();
    const r = await load(dir, cacheFile, logger);
    expect(hexes(r)).toEqual([pubkeys[0], pubkeys[2]]);
    expect(r.failures.map((f) => f.error.code)).toEqual([KeyErrorCode.KeystorePassword]);
    expect(r).toMatchObject({ fromCache: 0, decrypted: 2 });
    expect(warned).toHaveLength(1);
    const again = await load(dir, cacheFile);
    expect(again).toMatchObject({ fromCache: 2, decrypted: 0 });
    expect(again.failures.map((f) => f.error.code)).toEqual([KeyErrorCode.KeystorePassword]);
  });

  it("a keystore re-encrypted under a new password loads with it", async () => {
    const { dir, cacheFile, pubkeys } = await setUp(2);
    await load(dir, cacheFile);
    await writeKey(dir, "k000", 1, "new password");
    const r = await load(dir, cacheFile);
    expect(hexes(r)).toEqual(pubkeys);
    expect(r).toMatchObject({ decrypted: 2, failures: [] });
    expect(await load(dir, cacheFile)).toMatchObject({ fromCache: 2, decrypted: 0 });
  });

  it("a removed keystore is not served (its password gone too, or still there)", async () => {
    const { dir, cacheFile, pubkeys } = await setUp(3);
    await load(dir, cacheFile);
    rmSync(join(dir, "k001.json"));
    expect(hexes(await load(dir, cacheFile))).toEqual([pubkeys[0], pubkeys[2]]);
    rmSync(join(dir, "k002.json"));
    rmSync(join(dir, "k002.txt"));
    const r = await load(dir, cacheFile);
    expect(hexes(r)).toEqual([pubkeys[0]]);
    expect(readKeyCache(cacheFile)?.buckets.flatMap((b) => b.files)).toEqual(["k000.json"]);
  });

  it("a missing password file is reported as without a cache", async () => {
    const { dir, cacheFile } = await setUp(2);
    await load(dir, cacheFile);
    rmSync(join(dir, "k000.txt"));
    const r = await load(dir, cacheFile);
    expect(r.failures.map((f) => f.error.code)).toEqual([KeyErrorCode.KeystorePasswordMissing]);
    expect(r.keys).toHaveLength(1);
  });

  it("KDF limits lowered since: a cached keystore above them is refused as without a cache", async () => {
    const { dir, cacheFile } = await setUp(2);
    await load(dir, cacheFile);
    const r = await load(dir, cacheFile, nullLogger, { kdfLimits: { maxScryptN: 8, maxPbkdf2C: 8 } });
    expect(r.keys).toHaveLength(0);
    expect(r.failures.map((f) => f.error.code)).toEqual([KeyErrorCode.KeystoreKdfLimit, KeyErrorCode.KeystoreKdfLimit]);
  });

  it("an added keystore is decrypted; the rest come from the cache", async () => {
    const { dir, cacheFile, pubkeys } = await setUp(2);
    await load(dir, cacheFile);
    const added = await writeKey(dir, "k100", 50, "pw");
    const r = await load(dir, cacheFile);
    expect(hexes(r)).toEqual([...pubkeys, added]);
    expect(r).toMatchObject({ fromCache: 2, decrypted: 1 });
  });

  it("an unchanged restart loads every key from the cache and leaves the file as it was", async () => {
    const { dir, cacheFile, pubkeys } = await setUp(BUCKET_SIZE + 3);
    const first = await load(dir, cacheFile);
    expect(first).toMatchObject({ fromCache: 0, decrypted: BUCKET_SIZE + 3 });
    const bytes = readFileSync(cacheFile);
    const r = await load(dir, cacheFile);
    expect(r).toMatchObject({ fromCache: BUCKET_SIZE + 3, decrypted: 0, failures: [] });
    expect(hexes(r)).toEqual(pubkeys);
    // the same secrets as the keystores hold
    expect(r.keys.map((k) => Buffer.from(k.secret).toString("hex"))).toEqual(
      first.keys.map((k) => Buffer.from(k.secret).toString("hex")),
    );
    expect(readFileSync(cacheFile).equals(bytes)).toBe(true);
  });

  it("the file is mode 0600, written atomically, and holds neither secrets nor passwords in the clear", async () => {
    const { dir, cacheFile } = await setUp(2);
    const r = await load(dir, cacheFile);
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
    const text = readFileSync(cacheFile, "utf8");
    for (const k of r.keys) {
      expect(text).not.toContain(Buffer.from(k.secret).toString("hex"));
      expect(text).not.toContain(Buffer.from(k.secret).toString("base64").slice(0, 20));
    }
    expect(text).not.toContain("pw0");
  });

  it.each([
    ["garbage", (s: string) => `x${s}`],
    ["truncated", (s: string) => s.slice(0, s.length / 2)],
    [
      "a flipped ciphertext byte",
      (s: string) => s.replace(/"data":"(.)/, (_m, c) => `"data":"${c === "A" ? "B" : "A"}`),
    ],
    ["another KDF", (s: string) => s.replace('"n":4096', '"n":1048576')],
    ["an edited member list", (s: string) => s.replace('"k000.json"', '"k009.json"')],
    ["another version", (s: string) => s.replace('"version":1', '"version":2')],
    ["a member outside the folder", (s: string) => s.replace('"k000.json"', '"../k000.json"')],
  ])("a cache with %s is ignored with a warning and rebuilt", async (_what, damage) => {
    const { dir, cacheFile, pubkeys } = await setUp(2);
    await load(dir, cacheFile);
    writeFileSync(cacheFile, damage(readFileSync(cacheFile, "utf8")));
    const { logger, warned } = warnings();
    const r = await load(dir, cacheFile, logger);
    expect(hexes(r)).toEqual(pubkeys);
    expect(r.fromCache).toBe(0);
    // an edited member list names a keystore that is not there: the bucket is simply unusable
    if (!_what.includes("member")) expect(warned.length).toBeGreaterThan(0);
    expect(await load(dir, cacheFile)).toMatchObject({ fromCache: 2, decrypted: 0 });
  });

  it("keys added and removed through the updater are in the cache at the next start", async () => {
    const { dir, cacheFile, pubkeys } = await setUp(3);
    await load(dir, cacheFile);
    const updater = new KeyCacheUpdater({ file: cacheFile, dir }, { logger: nullLogger });
    // import: the keystore and password are written, then the cache updated with the decrypted key
    const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(77));
    const pk = sk.toPublicKey().toBytes();
    const json = JSON.stringify(await encryptKeystore(sk.toBytes(), pk, "imp", { kdf: "scrypt", work: 16 }));
    writeFileSync(join(dir, "imported.json"), json);
    writeFileSync(join(dir, "imported.txt"), "imp");
    await updater.add([
      { file: join(dir, "imported.json"), bytes: Buffer.from(json), password: "imp", pubkey: pk, secret: sk.toBytes() },
    ]);
    const r = await load(dir, cacheFile);
    expect(r).toMatchObject({ fromCache: 4, decrypted: 0 });
    // delete: out of the cache first (its bucket re-sealed with the others), then the files
    await updater.remove([join(dir, "k001.json")]);
    rmSync(join(dir, "k001.json"));
    rmSync(join(dir, "k001.txt"));
    const after = await load(dir, cacheFile);
    expect(after).toMatchObject({ fromCache: 3, decrypted: 0 });
    expect(hexes(after)).toEqual([toHex(pk), pubkeys[0], pubkeys[2]]);
  });

  it("several small buckets (one per import) are merged into one at the next start", async () => {
    const { dir, cacheFile } = await setUp(0);
    const updater = new KeyCacheUpdater({ file: cacheFile, dir }, { logger: nullLogger });
    for (let i = 0; i < 3; i++) {
      const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(60 + i));
      const pk = sk.toPublicKey().toBytes();
      const json = JSON.stringify(await encryptKeystore(sk.toBytes(), pk, `p${i}`, { kdf: "scrypt", work: 16 }));
      writeFileSync(join(dir, `i${i}.json`), json);
      writeFileSync(join(dir, `i${i}.txt`), `p${i}`);
      await updater.add([
        {
          file: join(dir, `i${i}.json`),
          bytes: Buffer.from(json),
          password: `p${i}`,
          pubkey: pk,
          secret: sk.toBytes(),
        },
      ]);
    }
    expect(readKeyCache(cacheFile)?.buckets).toHaveLength(3);
    expect(await load(dir, cacheFile)).toMatchObject({ fromCache: 3, decrypted: 0 });
    expect(readKeyCache(cacheFile)?.buckets).toHaveLength(1);
    expect(await load(dir, cacheFile)).toMatchObject({ fromCache: 3, decrypted: 0 });
  });

  it("a cache that cannot be written costs a warning, not the start", async () => {
    const { dir, pubkeys } = await setUp(2);
    const { logger, warned } = warnings();
    const r = await load(dir, join(dir, "no-such-dir", "cache"), logger);
    expect(hexes(r)).toEqual(pubkeys);
    expect(warned).toHaveLength(1);
    expect(existsSync(join(dir, "no-such-dir"))).toBe(false);
  });
});
