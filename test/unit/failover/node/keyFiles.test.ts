import { createHash, createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FailoverErrorCode } from "../../../../src/failover/errors.js";
import { addressOf, generateDummyKey, parseValidatorKey } from "../../../../src/failover/node/keyFiles.js";
import { loadVector, skipWithoutVectors } from "../../../utils/vectors.js";

describe("priv_validator_key.json", () => {
  it.each(["ed25519", "secp256k1"] as const)(
    "a generated %s dummy key is a valid FilePV key with its own address",
    (t) => {
      const a = JSON.parse(generateDummyKey(t));
      const b = JSON.parse(generateDummyKey(t));
      const info = parseValidatorKey(a, "a");
      expect(info.type).toBe(t);
      expect(info.address).toBe(a.address);
      expect(parseValidatorKey(b, "b").address).not.toBe(info.address);
    },
  );

  it("computes addresses the CometBFT way", () => {
    const pub = Buffer.alloc(32, 7);
    expect(addressOf("ed25519", pub)).toBe(
      createHash("sha256").update(pub).digest().subarray(0, 20).toString("hex").toUpperCase(),
    );
    const pub33 = Buffer.concat([Buffer.from([2]), Buffer.alloc(32, 9)]);
    const want = createHash("ripemd160")
      .update(createHash("sha256").update(pub33).digest())
      .digest("hex")
      .toUpperCase();
    expect(addressOf("secp256k1", pub33)).toBe(want);
  });

  it("reads the key format of the shared vectors", (ctx) => {
    skipWithoutVectors(ctx, { vectors: ["cometbft/priv_validator_state_formats.json"] });
    const formats = loadVector<Record<string, { format?: string }>>("cometbft/priv_validator_state_formats.json");
    const fmt = Object.entries(formats).find(([k]) => k.startsWith("priv_validator_key.json"))![1].format!;
    expect(fmt).toContain("tendermint/PrivKeyEd25519");
    const key = JSON.parse(generateDummyKey("ed25519"));
    expect(Object.keys(key).sort()).toEqual(["address", "priv_key", "pub_key"]);
    // the public key in the file verifies signatures of the private key
    const pub = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(key.pub_key.value, "base64")]),
      format: "der",
      type: "spki",
    });
    expect(verify(null, Buffer.from("x"), pub, Buffer.alloc(64))).toBe(false);
  });

  it.each([
    ["address that does not match", (k: any) => Object.assign(k, { address: "00".repeat(20) }), "address"],
    [
      "private key of another public key",
      (k: any) => {
        k.priv_key.value = JSON.parse(generateDummyKey("ed25519")).priv_key.value;
      },
      "priv_key.value",
    ],
    ["unknown type", (k: any) => Object.assign(k.pub_key, { type: "tendermint/PubKeyBls" }), "pub_key.type"],
    ["short public key", (k: any) => Object.assign(k.pub_key, { value: "AAAA" }), "pub_key.value"],
    [
      "private key type of another curve",
      (k: any) => Object.assign(k.priv_key, { type: "tendermint/PrivKeySecp256k1" }),
      "priv_key.type",
    ],
  ])("refuses a key file with %s", (_n, mutate, field) => {
    const k = JSON.parse(generateDummyKey("ed25519"));
    mutate(k);
    expect(() => parseValidatorKey(k, "k")).toThrowError(
      expect.objectContaining({ type: expect.objectContaining({ code: FailoverErrorCode.KeyInvalid, field }) }),
    );
  });
});
