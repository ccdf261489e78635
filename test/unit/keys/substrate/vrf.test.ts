import { cryptoWaitReady, sr25519VrfVerify as scureVrfVerify } from "@polkadot/util-crypto";
import {
  vrfSign as schnorrkelVrfSign,
  vrfVerify as schnorrkelVrfVerify,
  sr25519KeypairFromSeed,
} from "@polkadot/wasm-crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { cryptoReady, pairFromSuri } from "../../../../src/keys/substrate/keyPair.js";
import { type VrfTranscriptSpec, vrfSign, vrfVerify } from "../../../../src/keys/substrate/vrf.js";

const enc = new TextEncoder();

/** schnorrkel's signing_context(ctx).bytes(msg) transcript, built with the general transcript API under test. */
const signingContext = (ctx: Uint8Array, msg: Uint8Array): VrfTranscriptSpec => ({
  label: "SigningContext",
  items: [
    { label: "", value: ctx },
    { label: "sign-bytes", value: msg },
  ],
});
const extraTranscript = (extra: Uint8Array): VrfTranscriptSpec | null =>
  extra.length === 0 ? null : { label: "VRF", items: [{ label: "", value: extra }] };

const bytes = (seed: number, n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 0xff);

beforeAll(async () => {
  await cryptoReady();
  await cryptoWaitReady();
});

describe("sr25519 VRF (Merlin transcript, schnorrkel-compatible)", () => {
  const cases = Array.from({ length: 6 }, (_, i) => ({
    seed: bytes(i + 1, 32),
    ctx: i % 2 === 0 ? enc.encode("substrate") : bytes(i, i * 5),
    msg: bytes(i + 100, i * 40),
    extra: i < 3 ? new Uint8Array() : bytes(i + 7, 16),
  }));

  it.each(cases.map((c, i) => [i, c] as const))(
    "case %i: our VRF verifies in schnorrkel (WASM) and in @scure/sr25519",
    (_, c) => {
      const kp = sr25519KeypairFromSeed(c.seed);
      const key = { secret: kp.slice(0, 64), publicKey: kp.slice(64) };
      const s = vrfSign(key, signingContext(c.ctx, c.msg), extraTranscript(c.extra));
      const out = new Uint8Array([...s.preOutput, ...s.challenge, ...s.proof]);
      expect(schnorrkelVrfVerify(key.publicKey, c.ctx, c.msg, c.extra, out)).toBe(true);
      expect(scureVrfVerify(c.msg, out, key.publicKey, c.ctx, c.extra)).toBe(true);
      // the pre-output is a function of key and input alone: it equals schnorrkel's own
      const theirs = schnorrkelVrfSign(key.secret, c.ctx, c.msg, c.extra);
      expect(Buffer.from(theirs.subarray(0, 32)).equals(Buffer.from(s.preOutput))).toBe(true);
      // and our verifier accepts schnorrkel's proof
      expect(
        vrfVerify(
          key.publicKey,
          signingContext(c.ctx, c.msg),
          {
            preOutput: theirs.subarray(0, 32),
            challenge: theirs.subarray(32, 64),
            proof: theirs.subarray(64, 96),
          },
          extraTranscript(c.extra),
        ),
      ).toBe(true);
    },
  );

  it("a changed transcript, key or proof does not verify", () => {
    const pair = pairFromSuri("sr25519", "//Alice");
    const spec: VrfTranscriptSpec = { label: "BABE", items: [{ label: "slot number", value: bytes(1, 8) }] };
    const s = pair.vrfSign!(spec, null);
    expect(vrfVerify(pair.publicKey, spec, s)).toBe(true);
    expect(vrfVerify(pair.publicKey, { label: "BABE", items: [{ label: "slot number", value: bytes(2, 8) }] }, s)).toBe(
      false,
    );
    expect(vrfVerify(pairFromSuri("sr25519", "//Bob").publicKey, spec, s)).toBe(false);
    const badProof = Uint8Array.from(s.proof);
    badProof[0]! ^= 1;
    expect(vrfVerify(pair.publicKey, spec, { ...s, proof: badProof })).toBe(false);
  });
});
