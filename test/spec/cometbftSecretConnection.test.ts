import { describe, expect, it } from "vitest";
import { SecretConnectionErrorCode } from "../../src/chains/cometbft/errors.js";
import {
  decodeAuthSig,
  deriveSecrets,
  encodeAuthSig,
  encodeEphemeral,
  FrameCipher,
  handshakeChallenge,
  SecretConnection,
} from "../../src/chains/cometbft/secretConnection.js";
import { ed25519FromSeed, x25519FromSecret } from "../../src/util/curve25519.js";
import { Transcript as MerlinTranscript } from "../../src/util/merlin.js";
import { cometVector, hex, toHexStr } from "../utils/cometVectors.js";
import { memoryPipe } from "../utils/memoryPipe.js";
import { withVectors } from "../utils/vectors.js";

interface MerlinFile {
  vectors: { name: string; ops?: unknown[][]; expected_hex: string }[];
}
interface HkdfFile {
  vectors: { dh_secret: string; loc_is_least: boolean; recv_secret: string; send_secret: string }[];
}
interface HandshakeFile {
  alice_ed25519_seed: string;
  bob_ed25519_seed: string;
  alice_ed25519_pub: string;
  bob_ed25519_pub: string;
  alice_x25519_secret_unclamped: string;
  bob_x25519_secret_unclamped: string;
  alice_x25519_pub: string;
  bob_x25519_pub: string;
  alice_initial_msg_delimited: string;
  shared_secret: string;
  hkdf_okm_0_32: string;
  hkdf_okm_32_64: string;
  alice_auth_sig_msg_delimited: string;
  bob_auth_sig_msg_delimited: string;
  frames: { msg1_plaintext_utf8: string; msg1_sealed: string; msg2_plaintext_utf8: string; msg2_sealed: string };
  low_order_x25519_points_must_be_rejected: string[];
  derived_x25519_shared_secret_alice_bob: { value: string };
  derived_merlin_challenge: { value: string; alice_is_least: boolean };
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

withVectors(
  "SecretConnection vectors",
  {
    vectors: [
      "cometbft/merlin.json",
      "cometbft/secret_connection_hkdf_golden.json",
      "cometbft/secret_connection_handshake_tmkms_p2p.json",
    ],
  },
  () => {
    describe("Merlin transcript (vectors/cometbft/merlin.json)", () => {
      const file = cometVector<MerlinFile>("merlin.json");
      it("simple transcript", () => {
        const v = file.vectors.find((x) => x.name === "simple")!;
        let t: MerlinTranscript | null = null;
        let out = "";
        for (const op of v.ops!) {
          if (op[0] === "new") t = new MerlinTranscript(String(op[1]));
          else if (op[0] === "append") t!.appendMessage(String(op[1]), utf8(String(op[2]).replace(/^utf8:/, "")));
          else out = toHexStr(t!.challengeBytes(String(op[1]), Number(op[2])));
        }
        expect(out).toBe(v.expected_hex);
      });

      it("complex transcript", () => {
        const v = file.vectors.find((x) => x.name === "complex")!;
        const t = new MerlinTranscript("test protocol");
        t.appendMessage("step1", utf8("some data"));
        let c: Uint8Array = new Uint8Array(0);
        const big = new Uint8Array(1024).fill(0x63);
        for (let i = 0; i < 32; i++) {
          c = t.challengeBytes("challenge", 32);
          t.appendMessage("bigdata", big);
          t.appendMessage("challengedata", c);
        }
        expect(toHexStr(c)).toBe(v.expected_hex);
      });
    });

    describe("HKDF key derivation (vectors/cometbft/secret_connection_hkdf_golden.json)", () => {
      const file = cometVector<HkdfFile>("secret_connection_hkdf_golden.json");
      it(`all ${file.vectors.length} golden rows`, () => {
        expect(file.vectors.length).toBe(32);
        for (const v of file.vectors) {
          const k = deriveSecrets(hex(v.dh_secret), v.loc_is_least);
          expect(toHexStr(k.recvKey)).toBe(v.recv_secret);
          expect(toHexStr(k.sendKey)).toBe(v.send_secret);
        }
      });
    });

    describe("SecretConnection handshake (vectors/cometbft/secret_connection_handshake_tmkms_p2p.json)", () => {
      const v = cometVector<HandshakeFile>("secret_connection_handshake_tmkms_p2p.json");
      const alice = {
        id: ed25519FromSeed(hex(v.alice_ed25519_seed)),
        eph: x25519FromSecret(hex(v.alice_x25519_secret_unclamped)),
      };
      const bob = {
        id: ed25519FromSeed(hex(v.bob_ed25519_seed)),
        eph: x25519FromSecret(hex(v.bob_x25519_secret_unclamped)),
      };

      it("keys and the initial ephemeral-key message", () => {
        expect(toHexStr(alice.id.publicKey)).toBe(v.alice_ed25519_pub);
        expect(toHexStr(bob.id.publicKey)).toBe(v.bob_ed25519_pub);
        expect(toHexStr(alice.eph.publicKey)).toBe(v.alice_x25519_pub);
        expect(toHexStr(bob.eph.publicKey)).toBe(v.bob_x25519_pub);
        expect(toHexStr(encodeEphemeral(alice.eph.publicKey))).toBe(v.alice_initial_msg_delimited);
      });

      it("DH secret, Merlin challenge and both AuthSigMessages", () => {
        const dh = alice.eph.agree(bob.eph.publicKey);
        expect(toHexStr(dh)).toBe(v.derived_x25519_shared_secret_alice_bob.value);
        expect(toHexStr(bob.eph.agree(alice.eph.publicKey))).toBe(toHexStr(dh));
        const challenge = handshakeChallenge(alice.eph.publicKey, bob.eph.publicKey, dh);
        expect(toHexStr(challenge)).toBe(v.derived_merlin_challenge.value);
        expect(toHexStr(handshakeChallenge(bob.eph.publicKey, alice.eph.publicKey, dh))).toBe(toHexStr(challenge));
        expect(toHexStr(encodeAuthSig(alice.id.publicKey, alice.id.sign(challenge)))).toBe(
          v.alice_auth_sig_msg_delimited,
        );
        expect(toHexStr(encodeAuthSig(bob.id.publicKey, bob.id.sign(challenge)))).toBe(v.bob_auth_sig_msg_delimited);
        const parsed = decodeAuthSig(hex(v.bob_auth_sig_msg_delimited).subarray(1));
        expect(toHexStr(parsed.pubKey)).toBe(v.bob_ed25519_pub);
      });

      it("KDF of the tmkms shared secret", () => {
        const k = deriveSecrets(hex(v.shared_secret), false);
        expect(toHexStr(k.sendKey)).toBe(v.hkdf_okm_0_32);
        expect(toHexStr(k.recvKey)).toBe(v.hkdf_okm_32_64);
      });

      it("sealed 1044-byte frames with nonces 0 and 1", () => {
        const { sendKey, recvKey } = deriveSecrets(hex(v.shared_secret), false);
        const sealer = new FrameCipher(sendKey);
        const m1 = sealer.seal(utf8(v.frames.msg1_plaintext_utf8));
        const m2 = sealer.seal(utf8(v.frames.msg2_plaintext_utf8));
        expect(m1.length).toBe(1044);
        expect(toHexStr(m1)).toBe(v.frames.msg1_sealed);
        expect(toHexStr(m2)).toBe(v.frames.msg2_sealed);
        // the peer (loc_is_least = true) receives with the same key
        const opener = new FrameCipher(deriveSecrets(hex(v.shared_secret), true).recvKey);
        expect(new TextDecoder().decode(opener.open(hex(v.frames.msg1_sealed)))).toBe("hello");
        expect(new TextDecoder().decode(opener.open(hex(v.frames.msg2_sealed)))).toBe("world");
        expect(toHexStr(recvKey)).not.toBe(toHexStr(sendKey));
      });

      it("full handshake between the two vector parties over an in-memory pipe", async () => {
        const [a, b] = memoryPipe();
        const [ca, cb] = await Promise.all([
          SecretConnection.handshake(a, alice.id, { ephemeral: alice.eph }),
          SecretConnection.handshake(b, bob.id, { ephemeral: bob.eph }),
        ]);
        expect(toHexStr(ca.remotePubKey)).toBe(v.bob_ed25519_pub);
        expect(toHexStr(cb.remotePubKey)).toBe(v.alice_ed25519_pub);
        await ca.write(utf8("hello"));
        expect(new TextDecoder().decode(await cb.read(5))).toBe("hello");
      });

      for (const point of v.low_order_x25519_points_must_be_rejected) {
        it(`rejects low-order ephemeral key ${point.slice(0, 8)}…`, async () => {
          const [a, b] = memoryPipe();
          const handshake = SecretConnection.handshake(a, alice.id);
          // a hostile peer sends the low-order point as its ephemeral key
          await b.write(encodeEphemeral(hex(point)));
          await expect(handshake).rejects.toMatchObject({ code: SecretConnectionErrorCode.LowOrderPoint });
        });
      }
    });
  },
);
