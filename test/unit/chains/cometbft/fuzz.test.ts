import { describe, expect, it } from "vitest";
import { CometWireError, SecretConnectionError } from "../../../../src/chains/cometbft/errors.js";
import { decodePrivvalMessage, encodePrivvalMessage } from "../../../../src/chains/cometbft/privvalMessages.js";
import { readDelimited } from "../../../../src/chains/cometbft/protobuf.js";
import { deriveSecrets, FrameCipher } from "../../../../src/chains/cometbft/secretConnection.js";
import { decodeCanonical } from "../../../../src/chains/cometbft/signBytes.js";
import { parseStateFile, StateFileError } from "../../../../src/chains/cometbft/stateFile.js";
import { validateProposal, validateVote } from "../../../../src/chains/cometbft/validate.js";
import { cometVector, hex } from "../../../utils/cometVectors.js";
import { rng } from "../../../utils/fuzz.js";
import { vectorsMissing, withVectors } from "../../../utils/vectors.js";

const SEED = 20261124;
const PRIVVAL = { vectors: ["cometbft/privval_messages.json"] };
// the fuzz inputs are mutations of the privval vectors; without them the file is reported skipped
const vectors =
  vectorsMissing(PRIVVAL) === null
    ? cometVector<{ vectors: { expected_hex: string }[] }>("privval_messages.json").vectors.map((v) =>
        hex(v.expected_hex),
      )
    : [];

/** A valid message with a few bytes flipped, cut, or extended; or plain random bytes. */
function mutate(r: () => number): Uint8Array {
  if (r() < 0.2) return Uint8Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256));
  const base = new Uint8Array(vectors[Math.floor(r() * vectors.length)]!);
  const flips = 1 + Math.floor(r() * 4);
  for (let i = 0; i < flips && base.length > 0; i++) base[Math.floor(r() * base.length)] = Math.floor(r() * 256);
  if (r() < 0.3) return base.subarray(0, Math.floor(r() * base.length));
  return base;
}

/** Only our typed errors may come out of a decoder: never a TypeError, RangeError or a hang. */
function expectTyped(fn: () => unknown, ...types: (new (...a: never[]) => Error)[]): void {
  try {
    fn();
  } catch (e) {
    if (!types.some((t) => e instanceof t)) throw e;
  }
}

withVectors("parser fuzz", PRIVVAL, () => {
  describe(`parser fuzz (seed ${SEED})`, () => {
    it("privval messages: decode never throws anything but a typed error; what decodes re-encodes and decodes alike", () => {
      const r = rng(SEED);
      let decoded = 0;
      for (let i = 0; i < 20_000; i++) {
        const bytes = mutate(r);
        expectTyped(() => {
          const m = decodePrivvalMessage(bytes);
          decoded++;
          // requests then go through validation, which must also only fail typed
          if (m.kind === "signVoteRequest") expectTyped(() => validateVote(m.vote), CometWireError);
          if (m.kind === "signProposalRequest") expectTyped(() => validateProposal(m.proposal), CometWireError);
          if (m.kind !== "unknown") expect(decodePrivvalMessage(encodePrivvalMessage(m))).toEqual(m);
        }, CometWireError);
      }
      expect(decoded).toBeGreaterThan(1000);
    });

    it("canonical sign bytes and length prefixes", () => {
      const r = rng(SEED + 1);
      for (let i = 0; i < 20_000; i++) {
        const bytes = mutate(r);
        expectTyped(() => decodeCanonical(bytes), CometWireError);
        expectTyped(() => readDelimited(bytes, 1 << 20), CometWireError);
      }
    });

    it("frames: any change to a sealed frame fails authentication", () => {
      const r = rng(SEED + 2);
      const { sendKey } = deriveSecrets(new Uint8Array(32).fill(9), true);
      for (let i = 0; i < 300; i++) {
        const sealed = new FrameCipher(sendKey).seal(Uint8Array.from({ length: Math.floor(r() * 1025) }, () => 1));
        sealed[Math.floor(r() * sealed.length)]! ^= 1 + Math.floor(r() * 255);
        expect(() => new FrameCipher(sendKey).open(sealed)).toThrow(SecretConnectionError);
      }
    });

    it("state files: random JSON-ish documents fail typed", () => {
      const r = rng(SEED + 3);
      const pieces = [
        '"height"',
        '"round"',
        '"step"',
        '"signbytes"',
        '"signature"',
        '"block_id"',
        "1",
        '"1"',
        "-1",
        "null",
        '"zz"',
        "{}",
        "[]",
        ":",
        ",",
        "{",
        "}",
      ];
      for (let i = 0; i < 5000; i++) {
        const doc = Array.from({ length: Math.floor(r() * 12) }, () => pieces[Math.floor(r() * pieces.length)]).join(
          "",
        );
        expectTyped(() => parseStateFile(doc), StateFileError);
      }
    });
  });
});
