import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { BlsPool } from "../../../src/keys/blsPool.js";
import { KeyErrorCode } from "../../../src/keys/errors.js";

const secretOf = (i: number): Uint8Array => {
  const ikm = new Uint8Array(32);
  new DataView(ikm.buffer).setUint32(0, i + 1);
  return blst.SecretKey.fromKeygen(ikm).toBytes();
};
const expected = (secret: Uint8Array, root: Uint8Array): string =>
  Buffer.from(blst.SecretKey.fromBytes(secret).sign(root).toBytes()).toString("hex");

describe("BlsPool key store", () => {
  let pool: BlsPool;
  afterEach(async () => pool?.close());

  it("signs with the right key after the store grows, a key is removed and its slot reused", async () => {
    pool = new BlsPool({ threads: 2 });
    const n = 1100; // past the first 1,024-key slab
    const secrets = Array.from({ length: n }, (_, i) => secretOf(i));
    pool.addKeys(secrets.map((s, i) => ({ id: i + 1, secret: new Uint8Array(s) })));
    const root = new Uint8Array(32).fill(3);
    for (const i of [0, 1, 1023, 1024, n - 1]) {
      expect(Buffer.from(await pool.sign(i + 1, root)).toString("hex")).toBe(expected(secrets[i]!, root));
    }
    pool.removeKeys([5]);
    await expect(pool.sign(5, root)).rejects.toMatchObject({ type: { code: KeyErrorCode.KeyUnknown } });
    // a new key takes the freed slot; the others are untouched
    const fresh = secretOf(5000);
    pool.addKeys([{ id: 9999, secret: new Uint8Array(fresh) }]);
    expect(Buffer.from(await pool.sign(9999, root)).toString("hex")).toBe(expected(fresh, root));
    await expect(pool.sign(5, root)).rejects.toMatchObject({ type: { code: KeyErrorCode.KeyUnknown } });
    expect(Buffer.from(await pool.sign(6, root)).toString("hex")).toBe(expected(secrets[5]!, root));
  });

  it("zeroes the secrets it is handed", () => {
    pool = new BlsPool({ threads: 1 });
    const s = secretOf(1);
    pool.addKeys([{ id: 1, secret: s }]);
    expect(s.every((b) => b === 0)).toBe(true);
  });
});
