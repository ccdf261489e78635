import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { encryptKeystore } from "../../../../../src/keys/eip2335.js";
import { decryptOne } from "../../../../../src/keys/keystoreDecrypt.js";
import { KeystoreDecryptor } from "../../../../../src/keys/keystoreDecryptor.js";
import { MAX_IMPORT_KEYSTORES } from "../../../../../src/signer/ethereum/keymanager.js";
import { type SignerHarness, startSignerHarness } from "../../../../utils/signerHarness.js";

async function newKeystore(n: number): Promise<string> {
  const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(n));
  return JSON.stringify(
    await encryptKeystore(sk.toBytes(), sk.toPublicKey().toBytes(), "pw", { kdf: "pbkdf2", work: 16 }),
  );
}

describe("keymanager import limits", () => {
  let h: SignerHarness;
  afterEach(async () => h?.close());
  const auth = () => ({ authorization: `Bearer ${h.token}` });

  it("an import being decrypted does not hold up a DELETE; it completes afterwards", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    h = await startSignerHarness("sqlite", {
      hooks: {
        keystoreDecryptor: (limits) =>
          new KeystoreDecryptor({ limits }, { run: async (r) => gate.then(() => decryptOne(r)) }),
      },
    });
    const order: string[] = [];
    const imported = h.app
      .inject({
        method: "POST",
        url: "/eth/v1/keystores",
        headers: auth(),
        payload: { keystores: [await newKeystore(21)], passwords: ["pw"] },
      })
      .then((r) => {
        order.push("import");
        return r;
      });
    const deleted = await h.app.inject({
      method: "DELETE",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: { pubkeys: [h.keys[0]] },
    });
    order.push("delete");
    expect(deleted.json().data[0].status).toBe("deleted");
    release();
    expect((await imported).json().data[0].status).toBe("imported");
    expect(order).toEqual(["delete", "import"]);
  });

  it("a keystore over the KDF limit is an error status with its code; too many keystores is a typed 400", async () => {
    h = await startSignerHarness("sqlite");
    const k = JSON.parse(await newKeystore(22));
    k.crypto.kdf = {
      function: "scrypt",
      params: { dklen: 32, n: 2 ** 23, r: 8, p: 1, salt: "00".repeat(32) },
      message: "",
    };
    const res = await h.app.inject({
      method: "POST",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: { keystores: [JSON.stringify(k)], passwords: ["pw"] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data[0]).toMatchObject({
      status: "error",
      message: expect.stringMatching(/^ERR_KEYSTORE_KDF_LIMIT:/),
    });
    const many = Array.from({ length: MAX_IMPORT_KEYSTORES + 1 }, () => "{}");
    const tooMany = await h.app.inject({
      method: "POST",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: { keystores: many, passwords: many },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().code).toBe("ERR_KEYMANAGER_TOO_MANY_KEYSTORES");
  });
});
