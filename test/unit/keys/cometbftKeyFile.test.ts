import { describe, expect, it } from "vitest";
import { KeyFileErrorCode, loadCometBftKeyFile, parseCometBftKeyFile } from "../../../src/keys/cometbftKeyFile.js";
import { ed25519Verify } from "../../../src/util/curve25519.js";
import { seedOf, testKey } from "../../utils/comet.js";

const seed = seedOf("keyfile");
const key = testKey("keyfile");
const good = {
  pub_key: { type: "tendermint/PubKeyEd25519", value: Buffer.from(key.publicKey).toString("base64") },
  priv_key: { type: "tendermint/PrivKeyEd25519", value: Buffer.concat([seed, key.publicKey]).toString("base64") },
};

describe("priv_validator_key.json", () => {
  it("loads a key that signs, without an address field too", () => {
    const k = parseCometBftKeyFile(JSON.stringify(good), "k.json");
    const sig = k.sign(Uint8Array.of(1, 2, 3));
    expect(ed25519Verify(key.publicKey, Uint8Array.of(1, 2, 3), sig)).toBe(true);
  });

  const other = testKey("other");
  const cases: [string, unknown][] = [
    ["not JSON", "{"],
    ["secp256k1 key", { ...good, priv_key: { ...good.priv_key, type: "tendermint/PrivKeySecp256k1" } }],
    ["32-byte private value", { ...good, priv_key: { ...good.priv_key, value: Buffer.from(seed).toString("base64") } }],
    [
      "public half of another key",
      { ...good, priv_key: { ...good.priv_key, value: Buffer.concat([seed, other.publicKey]).toString("base64") } },
    ],
    [
      "pub_key of another key",
      { ...good, pub_key: { ...good.pub_key, value: Buffer.from(other.publicKey).toString("base64") } },
    ],
  ];
  for (const [name, doc] of cases) {
    it(`refuses: ${name}`, () => {
      const text = typeof doc === "string" ? doc : JSON.stringify(doc);
      let thrown: unknown;
      try {
        parseCometBftKeyFile(text, "k.json");
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toMatchObject({ code: KeyFileErrorCode.Invalid });
      // the error never carries key material
      expect(JSON.stringify((thrown as { toObject(): unknown }).toObject())).not.toContain(
        good.priv_key.value.slice(0, 16),
      );
    });
  }

  it("an unreadable file is a typed error", () => {
    expect(() => loadCometBftKeyFile("/nonexistent/k.json")).toThrow(
      expect.objectContaining({ code: KeyFileErrorCode.Unreadable }),
    );
  });
});
