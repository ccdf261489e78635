import { describe, expect, it } from "vitest";
import {
  decodeCanonical,
  encodeCanonical,
  proposalSignBytes,
  voteExtensionSignBytes,
  voteSignBytes,
} from "../../src/chains/cometbft/signBytes.js";
import { cometAddressOf } from "../../src/keys/cometbftKeyFile.js";
import { ed25519FromSeed, ed25519Verify } from "../../src/util/curve25519.js";
import { cometVector, hex, proposalFromVector, toHexStr, voteFromVector } from "../utils/cometVectors.js";
import { withVectors } from "../utils/vectors.js";

interface SignBytesVector {
  name: string;
  kind: "vote" | "proposal" | "vote_extension";
  chain_id: string;
  input: Record<string, unknown>;
  expected_sign_bytes_hex: string;
}

interface SignBytesFile {
  vectors: SignBytesVector[];
  ed25519_signature_vectors: {
    key: { seed_hex: string; pub_hex: string; address_hex: string };
    precommit_sign_bytes_hex: string;
    precommit_signature_hex: string;
    extension_sign_bytes_hex: string;
    extension_signature_hex: string;
  };
}

withVectors("canonical sign bytes", { vectors: ["cometbft/canonical_sign_bytes.json"] }, () => {
  const file = cometVector<SignBytesFile>("canonical_sign_bytes.json");
  describe("canonical sign bytes (vectors/cometbft/canonical_sign_bytes.json)", () => {
    it("has vectors", () => expect(file.vectors.length).toBeGreaterThanOrEqual(17));

    for (const v of file.vectors) {
      it(v.name, () => {
        const bytes =
          v.kind === "vote"
            ? voteSignBytes(v.chain_id, voteFromVector(v.input))
            : v.kind === "proposal"
              ? proposalSignBytes(v.chain_id, proposalFromVector(v.input))
              : voteExtensionSignBytes(v.chain_id, voteFromVector({ ...v.input, type: 2 }));
        expect(toHexStr(bytes)).toBe(v.expected_sign_bytes_hex);
        if (v.kind !== "vote_extension") {
          // decoding and re-encoding is the identity (the timestamp-only comparison depends on it)
          expect(toHexStr(encodeCanonical(decodeCanonical(bytes)))).toBe(v.expected_sign_bytes_hex);
        }
      });
    }

    it("Ed25519 signatures over vote and extension sign bytes", () => {
      const s = file.ed25519_signature_vectors;
      const key = ed25519FromSeed(hex(s.key.seed_hex));
      expect(toHexStr(key.publicKey)).toBe(s.key.pub_hex);
      expect(cometAddressOf(key.publicKey)).toBe(s.key.address_hex);
      expect(toHexStr(key.sign(hex(s.precommit_sign_bytes_hex)))).toBe(s.precommit_signature_hex);
      expect(toHexStr(key.sign(hex(s.extension_sign_bytes_hex)))).toBe(s.extension_signature_hex);
      expect(ed25519Verify(key.publicKey, hex(s.precommit_sign_bytes_hex), hex(s.precommit_signature_hex))).toBe(true);
    });
  });
});
