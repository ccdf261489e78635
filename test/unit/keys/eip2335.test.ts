import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, decrypt } from "@chainsafe/bls-keystore";
import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { decryptKeystore, encryptKeystore, parseKeystore, processPassword } from "../../../src/keys/eip2335.js";
import { loadKeystoreDir } from "../../../src/keys/keystoreDir.js";
import { tempDir } from "../../utils/stores.js";

const secretOf = (n: number): Uint8Array => blst.SecretKey.fromKeygen(new Uint8Array(32).fill(n)).toBytes();
const pubOf = (s: Uint8Array): Uint8Array => blst.SecretKey.fromBytes(s).toPublicKey().toBytes();

describe("EIP-2335 keystores", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("decrypts keystores written by an independent implementation (@chainsafe/bls-keystore), scrypt and pbkdf2", async () => {
    for (const fn of ["scrypt", "pbkdf2"] as const) {
      const secret = secretOf(1);
      const kdfMod =
        fn === "scrypt"
          ? { function: "scrypt", params: { dklen: 32, n: 1024, r: 8, p: 1, salt: "03".repeat(32) } }
          : { function: "pbkdf2", params: { dklen: 32, c: 1000, prf: "hmac-sha256", salt: "03".repeat(32) } };
      const ks = await create("pässwörd\u0007", secret, pubOf(secret), "m/12381/3600/0/0/0", "", kdfMod as never);
      const parsed = parseKeystore(JSON.parse(JSON.stringify(ks)));
      expect(await decryptKeystore(parsed, "pässwörd\u0007")).toEqual(secret);
      // control codes are stripped before the KDF (EIP-2335), so the password without them works too
      expect(await decryptKeystore(parsed, "pässwörd")).toEqual(secret);
      await expect(decryptKeystore(parsed, "wrong")).rejects.toMatchObject({ code: "ERR_KEYSTORE_PASSWORD" });
    }
  });

  it("writes keystores the independent implementation decrypts", async () => {
    const secret = secretOf(2);
    for (const kdf of ["scrypt", "pbkdf2"] as const) {
      const ks = await encryptKeystore(secret, pubOf(secret), "hunter2", { kdf, work: kdf === "scrypt" ? 1024 : 1000 });
      expect(await decrypt(ks as never, "hunter2")).toEqual(secret);
    }
  });

  it("NFKD-normalises passwords", () => {
    expect(processPassword("\u212b")).toEqual(processPassword("A\u030a"));
    expect(processPassword("a\u0000b\u007fc\u0085d").toString()).toBe("abcd");
  });

  it("refuses broken keystores with typed errors", async () => {
    const good = await encryptKeystore(secretOf(3), pubOf(secretOf(3)), "pw", { kdf: "pbkdf2", work: 10 });
    const broken = [
      { ...good, version: 3 },
      { ...good, crypto: { ...good.crypto, kdf: { ...good.crypto.kdf, function: "argon2" } } },
      { ...good, crypto: { ...good.crypto, cipher: { ...good.crypto.cipher, params: { iv: "zz" } } } },
      { ...good, crypto: { ...good.crypto, cipher: { ...good.crypto.cipher, message: "00" } } },
      { ...good, pubkey: "1234" },
      "not an object",
    ];
    for (const b of broken)
      expect(() => parseKeystore(b)).toThrow(expect.objectContaining({ code: "ERR_KEYSTORE_INVALID" }));
    const hugeN = {
      ...good,
      crypto: {
        ...good.crypto,
        kdf: { function: "scrypt", params: { dklen: 32, n: 3, r: 8, p: 1, salt: "00" }, message: "" },
      },
    };
    await expect(decryptKeystore(parseKeystore(hugeN), "pw")).rejects.toMatchObject({ code: "ERR_KEYSTORE_INVALID" });
  });

  it("loads a folder: names failing files, skips them, loads the rest", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dir = join(t.dir, "keys");
    const pw = join(t.dir, "passwords");
    mkdirSync(dir);
    mkdirSync(pw);
    const s1 = secretOf(4);
    const s2 = secretOf(5);
    writeFileSync(
      join(dir, "a.json"),
      JSON.stringify(await encryptKeystore(s1, pubOf(s1), "one", { kdf: "pbkdf2", work: 10 })),
    );
    writeFileSync(join(pw, "a.txt"), "one\n");
    writeFileSync(
      join(dir, "b.json"),
      JSON.stringify(await encryptKeystore(s2, pubOf(s2), "two", { kdf: "pbkdf2", work: 10 })),
    );
    writeFileSync(join(pw, "b.txt"), "not two");
    writeFileSync(join(dir, "c.json"), "{ broken");
    writeFileSync(join(pw, "c.txt"), "x");
    writeFileSync(
      join(dir, "d.json"),
      JSON.stringify(await encryptKeystore(s2, pubOf(s2), "two", { kdf: "pbkdf2", work: 10 })),
    );
    const progress: number[] = [];
    const { keys, failures } = await loadKeystoreDir(dir, { passwordsDir: pw, onProgress: (d) => progress.push(d) });
    expect(keys.map((k) => k.file.split("/").pop())).toEqual(["a.json"]);
    expect(keys[0]!.pubkey).toEqual(pubOf(s1));
    expect(failures.map((f) => [f.file.split("/").pop(), f.error.code]).sort()).toEqual([
      ["b.json", "ERR_KEYSTORE_PASSWORD"],
      ["c.json", "ERR_KEYSTORE_INVALID"],
      ["d.json", "ERR_KEYSTORE_PASSWORD_MISSING"],
    ]);
    expect(progress.sort()).toEqual([1, 2, 3, 4]);
  });
});
