import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { encryptKeystore } from "../../../src/keys/eip2335.js";
import { BUCKET_SIZE, type KeyCacheDocument, readKeyCache } from "../../../src/keys/keyCache.js";
import { listKeystoreFiles, listKeystoreFolder, passwordReader } from "../../../src/keys/keystoreDir.js";
import { loadKeystoreDirCached } from "../../../src/keys/keystoreDirCached.js";
import { toHex } from "../../../src/util/hex.js";
import { type Logger, nullLogger } from "../../../src/util/logger.js";
import { tempDir } from "../../utils/stores.js";

/** Light keystores (scrypt n = 16): the cache's rules do not depend on the keystores' work. */
async function writeKeys(dir: string, count: number, password: (i: number) => string): Promise<string[]> {
  const pubkeys: string[] = [];
  for (let i = 0; i < count; i++) {
    const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(i + 1));
    const pk = sk.toPublicKey().toBytes();
    const name = `k${String(i).padStart(3, "0")}`;
    const ks = await encryptKeystore(sk.toBytes(), pk, password(i), { kdf: "scrypt", work: 16 });
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(ks));
    writeFileSync(join(dir, `${name}.txt`), password(i));
    pubkeys.push(toHex(pk));
  }
  return pubkeys;
}

describe("key cache buckets", () => {
  let t: ReturnType<typeof tempDir>;
  afterEach(() => t?.cleanup());
  const load = (dir: string, logger: Logger = nullLogger) =>
    loadKeystoreDirCached(dir, { cacheFile: join(dir, ".cache"), logger });
  const hexes = (r: { keys: { pubkey: Uint8Array }[] }) => r.keys.map((k) => toHex(k.pubkey));

  it("buckets whose members have the same passwords share one derivation; other passwords get their own", async () => {
    t = tempDir("sg-kcb-");
    const same = join(t.dir, "same");
    const own = join(t.dir, "own");
    mkdirSync(same);
    mkdirSync(own);
    const count = 2 * BUCKET_SIZE;
    const samePks = await writeKeys(same, count, () => "one password");
    const ownPks = await writeKeys(own, count, (i) => `pw${i}`);
    expect((await load(same)).decrypted).toBe(count);
    expect((await load(own)).decrypted).toBe(count);

    const a = await load(same);
    expect(hexes(a)).toEqual(samePks);
    expect(a).toMatchObject({ fromCache: count, decrypted: 0 });
    expect(a.phases.derivations).toBe(1);
    const b = await load(own);
    expect(hexes(b)).toEqual(ownPks);
    expect(b).toMatchObject({ fromCache: count, decrypted: 0 });
    expect(b.phases.derivations).toBe(2);
  });

  it("a bucket's sealed data put in another bucket's place (same key) does not verify: both are decrypted", async () => {
    t = tempDir("sg-kcb-");
    const pubkeys = await writeKeys(t.dir, 2 * BUCKET_SIZE, () => "one password");
    await load(t.dir);
    const file = join(t.dir, ".cache");
    const doc = JSON.parse(readFileSync(file, "utf8")) as KeyCacheDocument;
    expect(doc.buckets).toHaveLength(2);
    const [x, y] = doc.buckets as [KeyCacheDocument["buckets"][0], KeyCacheDocument["buckets"][0]];
    expect(x.salt).toBe(y.salt);
    [x.iv, y.iv, x.data, y.data, x.tag, y.tag] = [y.iv, x.iv, y.data, x.data, y.tag, x.tag];
    writeFileSync(file, JSON.stringify(doc));
    const warned: string[] = [];
    const logger: Logger = { ...nullLogger, warn: (m) => void warned.push(m), child: () => logger };
    const r = await load(t.dir, logger);
    expect(hexes(r)).toEqual(pubkeys);
    expect(r).toMatchObject({ fromCache: 0, decrypted: 2 * BUCKET_SIZE, failures: [] });
    expect(warned).toHaveLength(2);
    // rebuilt: the next start serves every key again
    expect(readKeyCache(file)?.buckets).toHaveLength(2);
    expect(await load(t.dir)).toMatchObject({ fromCache: 2 * BUCKET_SIZE, decrypted: 0 });
  });

  it("lists keystore files (and links to files) in one read, not folders; passwords from the folder first", () => {
    t = tempDir("sg-kcb-");
    const keys = join(t.dir, "keys");
    const passwords = join(t.dir, "passwords");
    mkdirSync(keys);
    mkdirSync(passwords);
    writeFileSync(join(keys, "b.json"), "{}");
    writeFileSync(join(t.dir, "elsewhere.json"), "{}");
    symlinkSync(join(t.dir, "elsewhere.json"), join(keys, "a.json"));
    mkdirSync(join(keys, "c.json"));
    symlinkSync(join(keys, "c.json"), join(keys, "d.json"));
    symlinkSync(join(t.dir, "missing.json"), join(keys, "e.json"));
    expect(listKeystoreFiles(keys)).toEqual([join(keys, "a.json"), join(keys, "b.json")]);

    writeFileSync(join(keys, "a.txt"), "beside-a");
    writeFileSync(join(keys, "b.txt"), "beside-b\n");
    writeFileSync(join(passwords, "a.txt"), "folder-a\n");
    const folder = listKeystoreFolder(keys);
    expect(passwordReader(folder)(join(keys, "a.json"))).toBe("beside-a");
    const read = passwordReader(folder, passwords);
    expect(read(join(keys, "a.json"))).toBe("folder-a");
    expect(read(join(keys, "b.json"))).toBe("beside-b");
  });
});
