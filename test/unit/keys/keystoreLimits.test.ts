import blst from "@chainsafe/blst";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_KDF_LIMITS,
  decryptKeystore,
  type Eip2335Keystore,
  encryptKeystore,
  kdfParams,
  parseKeystore,
} from "../../../src/keys/eip2335.js";
import { KeyErrorCode } from "../../../src/keys/errors.js";
import { KeymanagerBusyError, KeystoreDecryptor } from "../../../src/keys/keystoreDecryptor.js";

const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(9));
const light = async (): Promise<Eip2335Keystore> =>
  encryptKeystore(sk.toBytes(), sk.toPublicKey().toBytes(), "pw", { kdf: "scrypt", work: 1024 });
const withParams = (k: Eip2335Keystore, fn: "scrypt" | "pbkdf2", params: Record<string, unknown>): Eip2335Keystore => ({
  ...k,
  crypto: { ...k.crypto, kdf: { function: fn, params: { dklen: 32, salt: "00".repeat(32), ...params }, message: "" } },
});

describe("keystore KDF limits", () => {
  it("accepts what EIP-2335 tools write and refuses more before any work, naming the parameter", async () => {
    const k = await light();
    expect(kdfParams(withParams(k, "scrypt", { n: 2 ** 18, r: 8, p: 1 }))).toMatchObject({ n: 2 ** 18 });
    expect(kdfParams(withParams(k, "pbkdf2", { c: 2 ** 18, prf: "hmac-sha256" }))).toMatchObject({ c: 2 ** 18 });
    const over: [Record<string, unknown>, "scrypt" | "pbkdf2", string][] = [
      [{ n: 2 ** 23, r: 8, p: 1 }, "scrypt", "crypto.kdf.params.n"],
      [{ n: 2 ** 19, r: 8, p: 1 }, "scrypt", "crypto.kdf.params.n"],
      [{ n: 2 ** 10, r: 16, p: 1 }, "scrypt", "crypto.kdf.params.r"],
      [{ n: 2 ** 10, r: 8, p: 2 }, "scrypt", "crypto.kdf.params.p"],
      [{ c: 2 ** 18 + 1, prf: "hmac-sha256" }, "pbkdf2", "crypto.kdf.params.c"],
    ];
    for (const [params, fn, field] of over) {
      // n = 2^23 would take 7 s and 1 GiB if derived: the refusal comes first, in no time
      await expect(decryptKeystore(parseKeystore(withParams(k, fn, params)), "pw")).rejects.toMatchObject({
        type: { code: KeyErrorCode.KeystoreKdfLimit, field },
      });
    }
  });

  it("an operator may raise n and c (not r or p)", async () => {
    const k = await light();
    const raised = { maxScryptN: 2 ** 20, maxPbkdf2C: 2 ** 20 };
    expect(kdfParams(withParams(k, "scrypt", { n: 2 ** 20, r: 8, p: 1 }), raised)).toMatchObject({ n: 2 ** 20 });
    expect(() => kdfParams(withParams(k, "scrypt", { n: 2 ** 10, r: 9, p: 1 }), raised)).toThrow(
      expect.objectContaining({ code: KeyErrorCode.KeystoreKdfLimit }),
    );
    expect(() => kdfParams(withParams(k, "scrypt", { n: 2 ** 21, r: 8, p: 1 }), raised)).toThrow(
      expect.objectContaining({ code: KeyErrorCode.KeystoreKdfLimit }),
    );
    expect(DEFAULT_KDF_LIMITS).toEqual({ maxScryptN: 2 ** 18, maxPbkdf2C: 2 ** 18 });
  });

  it("the decryptor works on a worker thread: keys, and typed errors per keystore", async () => {
    const d = new KeystoreDecryptor();
    try {
      const good = JSON.stringify(await light());
      const out = await d.decryptAll([
        { json: good, password: "pw" },
        { json: good, password: "wrong" },
        { json: JSON.stringify(withParams(await light(), "scrypt", { n: 2 ** 20, r: 8, p: 1 })), password: "pw" },
      ]);
      expect(out[0]).toMatchObject({ pubkey: sk.toPublicKey().toBytes() });
      expect(out.slice(1).map((x) => (x as { code?: string }).code)).toEqual([
        KeyErrorCode.KeystorePassword,
        KeyErrorCode.KeystoreKdfLimit,
      ]);
    } finally {
      await d.close();
    }
  });

  it("one import decrypts at a time; a bounded number wait, the next is refused (ERR_KEYMANAGER_BUSY)", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const started: number[] = [];
    const d = new KeystoreDecryptor(
      { maxWaiting: 1 },
      {
        run: async (r) => {
          started.push(Number(r.password));
          await gate;
          return { ok: false, error: { code: KeyErrorCode.KeystorePassword }, message: "x" };
        },
      },
    );
    const a = d.decryptAll([{ json: "{}", password: "1" }]);
    const b = d.decryptAll([{ json: "{}", password: "2" }]);
    await expect(d.decryptAll([{ json: "{}", password: "3" }])).rejects.toBeInstanceOf(KeymanagerBusyError);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1]); // the second import waits for the first
    release();
    await Promise.all([a, b]);
    expect(started).toEqual([1, 2]);
    await d.close();
  });
});
