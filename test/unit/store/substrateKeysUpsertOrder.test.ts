import { describe, expect, it } from "vitest";
import { substrateKeysRepository } from "../../../src/store/substrate/substrateKeysRepository.js";
import type { SqlTx } from "../../../src/store/types.js";

/**
 * Found by the model-based suite (test/model/substrate, PostgreSQL): two instances filing the same new
 * keys in different orders deadlocked on the unique index (each waited for the other's uncommitted
 * insert) and one failed with a store error. Keys are filed in public-key order, as for Ethereum.
 */
describe("substrateKeysRepository.upsert", () => {
  it("files keys in public-key order whatever the order asked", async () => {
    const inserted: string[] = [];
    const tx = {
      dialect: "postgres",
      run: async (sql: string, params: unknown[]) => {
        if (sql.startsWith("INSERT")) inserted.push(Buffer.from(params[1] as Uint8Array).toString("hex"));
        return 1;
      },
      all: async () => [{ id: 1, key_type: "babe" }],
    } as unknown as SqlTx;
    const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
    await substrateKeysRepository.upsert(tx, [
      { keyType: "babe", publicKey: key(3) },
      { keyType: "babe", publicKey: key(1) },
      { keyType: "gran", publicKey: key(2) },
    ]);
    expect(inserted).toEqual([1, 2, 3].map((b) => Buffer.from(key(b)).toString("hex")));
  });
});
