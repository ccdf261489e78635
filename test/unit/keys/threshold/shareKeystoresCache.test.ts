import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { encryptKeystore } from "../../../../src/keys/eip2335.js";
import { KeyErrorCode } from "../../../../src/keys/errors.js";
import { type BlsSharing, dealBlsKey } from "../../../../src/keys/threshold/blsThreshold.js";
import type { Cluster } from "../../../../src/keys/threshold/clusterFile.js";
import {
  clusterKeyOf,
  loadShareKeystores,
  shareDir,
  writeShareKeystores,
} from "../../../../src/keys/threshold/shareKeystores.js";
import { toHex } from "../../../../src/util/hex.js";
import { nullLogger } from "../../../../src/util/logger.js";
import { tempDir } from "../../../utils/stores.js";

const LIGHT = { kdf: "scrypt", work: 16 } as const;

describe("share keystores through the key cache", () => {
  let t: ReturnType<typeof tempDir>;
  afterEach(() => t?.cleanup());

  const deal = (secret = blst.SecretKey.fromKeygen(randomBytes(32)).toBytes()): BlsSharing => dealBlsKey(secret, 2, 3);
  const clusterOf = (...s: BlsSharing[]): Cluster => ({
    scheme: "bls12-381",
    threshold: 2,
    nodes: [],
    keys: s.map(clusterKeyOf),
  });
  const load = (cluster: Cluster, dir: string) =>
    loadShareKeystores(cluster, 1, dir, { cache: { cacheFile: join(dir, ".cache"), logger: nullLogger } });
  const sharesOf = (r: Awaited<ReturnType<typeof load>>) => r.shares.map((s) => toHex(s.sharePublicKey));

  it("an unchanged restart serves the shares from the cache, and they pass the Feldman check", async () => {
    t = tempDir("sg-sharecache-");
    const [a, b] = [deal(), deal()];
    const cluster = clusterOf(a, b);
    const expected = [toHex(a.shares[0]!.publicKey), toHex(b.shares[0]!.publicKey)];
    await writeShareKeystores(t.dir, "a", a, LIGHT);
    await writeShareKeystores(t.dir, "b", b, LIGHT);
    const dir = shareDir(t.dir, 1);
    const first = await load(cluster, dir);
    expect(sharesOf(first)).toEqual(expected);
    expect(first.cached).toMatchObject({ fromCache: 0, decrypted: 2 });
    expect(existsSync(join(dir, ".cache"))).toBe(true);
    const again = await load(cluster, dir);
    expect(sharesOf(again)).toEqual(expected);
    expect(again.cached).toMatchObject({ fromCache: 2, decrypted: 0 });
    expect(again.failures).toEqual([]);
  });

  it("a changed share keystore is decrypted, never served from the cache", async () => {
    t = tempDir("sg-sharecache-");
    const secret = blst.SecretKey.fromKeygen(randomBytes(32)).toBytes();
    const [a, b] = [deal(secret), deal()];
    const cluster = clusterOf(a, b);
    await writeShareKeystores(t.dir, "a", a, LIGHT);
    await writeShareKeystores(t.dir, "b", b, LIGHT);
    const dir = shareDir(t.dir, 1);
    await load(cluster, dir);

    // the same group key split again: node 1's "a" keystore now holds a share of the new dealing, under
    // the same password (so the cache's bucket still opens; only the file's checksum tells them apart)
    const resplit = deal(secret);
    const newShare = toHex(resplit.shares[0]!.publicKey);
    const password = readFileSync(join(dir, "a.txt"), "utf8");
    const s1 = resplit.shares[0]!;
    writeFileSync(join(dir, "a.json"), JSON.stringify(await encryptKeystore(s1.secret, s1.publicKey, password, LIGHT)));
    // with the old cluster file the new share fails the Feldman check: the cached old share is not served
    const stale = await load(cluster, dir);
    expect(stale.cached).toMatchObject({ fromCache: 1, decrypted: 1 });
    expect(sharesOf(stale)).toEqual([toHex(b.shares[0]!.publicKey)]);
    expect(stale.failures.map((f) => f.error.code)).toEqual([KeyErrorCode.KeystorePubkeyMismatch]);
    // with the new cluster file the new share is loaded, and cached for the next start
    const current = clusterOf(resplit, b);
    const r = await load(current, dir);
    expect(sharesOf(r)).toEqual([newShare, toHex(b.shares[0]!.publicKey)]);
    expect(r.failures).toEqual([]);
    const again = await load(current, dir);
    expect(again.cached).toMatchObject({ fromCache: 2, decrypted: 0 });
    expect(sharesOf(again)).toEqual([newShare, toHex(b.shares[0]!.publicKey)]);
  });

  it("without the cache option nothing is cached", async () => {
    t = tempDir("sg-sharecache-");
    const a = deal();
    const cluster = clusterOf(a);
    await writeShareKeystores(t.dir, "a", a, LIGHT);
    const dir = shareDir(t.dir, 1);
    const r = await loadShareKeystores(cluster, 1, dir);
    expect(r.shares).toHaveLength(1);
    expect(r.cached).toBeNull();
    expect(existsSync(join(dir, ".cache"))).toBe(false);
  });
});
