import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { KEY_CACHE_FILE } from "../../../../../src/cli/signer/ethereumSection.js";
import { encryptKeystore } from "../../../../../src/keys/eip2335.js";
import { readKeyCache } from "../../../../../src/keys/keyCache.js";
import { loadKeystoreDirCached } from "../../../../../src/keys/keystoreDirCached.js";
import { nullLogger } from "../../../../../src/util/logger.js";
import { type SignerHarness, startSignerHarness } from "../../../../utils/signerHarness.js";

describe("the signer's key cache", () => {
  let h: SignerHarness;
  afterEach(async () => h?.close());
  const auth = () => ({ authorization: `Bearer ${h.token}` });
  const cachedFiles = () =>
    readKeyCache(join(h.dir, "keys", KEY_CACHE_FILE))
      ?.buckets.flatMap((b) => b.files)
      .sort();

  it("is written at start (mode 0600) and follows keymanager imports and deletions", async () => {
    h = await startSignerHarness("sqlite");
    const cacheFile = join(h.dir, "keys", KEY_CACHE_FILE);
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(cachedFiles()).toHaveLength(3);

    const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(41));
    const pk = sk.toPublicKey().toBytes();
    const json = JSON.stringify(await encryptKeystore(sk.toBytes(), pk, "pi", { kdf: "pbkdf2", work: 16 }));
    const imp = await h.app.inject({
      method: "POST",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: { keystores: [json], passwords: ["pi"] },
    });
    expect(imp.json().data[0].status).toBe("imported");
    expect(cachedFiles()).toHaveLength(4);

    const del = await h.app.inject({
      method: "DELETE",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: { pubkeys: [h.keys[0]] },
    });
    expect(del.json().data[0].status).toBe("deleted");
    expect(cachedFiles()).toHaveLength(3);
    // a restart would take all of them from the cache and none from the keystores
    const r = await loadKeystoreDirCached(join(h.dir, "keys"), { cacheFile, logger: nullLogger });
    expect(r).toMatchObject({ fromCache: 3, decrypted: 0, failures: [] });
    expect(r.keys.map((k) => `0x${Buffer.from(k.pubkey).toString("hex")}`).sort()).toEqual(
      [...h.keys.slice(1), `0x${Buffer.from(pk).toString("hex")}`].sort(),
    );
  });

  it("--no-key-cache writes none", async () => {
    h = await startSignerHarness("sqlite", { flags: { doppelganger: false, keyCache: false } });
    expect(existsSync(join(h.dir, "keys", KEY_CACHE_FILE))).toBe(false);
    expect(h.keys).toHaveLength(3);
  });
});

describe("the key list answers", () => {
  let h: SignerHarness;
  afterEach(async () => h?.close());

  it("are built once per key set and follow imports and deletions", async () => {
    h = await startSignerHarness("sqlite", { keys: 4 });
    const auth = { authorization: `Bearer ${h.token}` };
    const lists = async () => {
      const pk = await h.app.inject({ url: "/api/v1/eth2/publicKeys" });
      const km = await h.app.inject({ url: "/eth/v1/keystores", headers: auth });
      expect(pk.headers["content-type"]).toMatch(/^application\/json/);
      expect(km.headers["content-type"]).toMatch(/^application\/json/);
      const kmKeys = (
        km.json().data as { validating_pubkey: string; derivation_path: string; readonly: boolean }[]
      ).map((d) => {
        expect(d).toMatchObject({ derivation_path: "", readonly: false });
        return d.validating_pubkey;
      });
      expect(kmKeys.sort()).toEqual((pk.json() as string[]).sort());
      return kmKeys.sort();
    };
    expect(await lists()).toEqual(h.keys);
    expect(await lists()).toEqual(h.keys);
    const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(42));
    const pk = `0x${Buffer.from(sk.toPublicKey().toBytes()).toString("hex")}`;
    const json = JSON.stringify(
      await encryptKeystore(sk.toBytes(), sk.toPublicKey().toBytes(), "p", { kdf: "pbkdf2", work: 16 }),
    );
    await h.app.inject({
      method: "POST",
      url: "/eth/v1/keystores",
      headers: auth,
      payload: { keystores: [json], passwords: ["p"] },
    });
    expect(await lists()).toEqual([...h.keys, pk].sort());
    await h.app.inject({
      method: "DELETE",
      url: "/eth/v1/keystores",
      headers: auth,
      payload: { pubkeys: [h.keys[1]] },
    });
    expect(await lists()).toEqual([...h.keys.filter((k) => k !== h.keys[1]), pk].sort());
  });
});
