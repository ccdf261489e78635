import {
  cryptoWaitReady,
  ed25519PairFromSeed,
  keyExtractSuri,
  keyFromPath,
  mnemonicToMiniSecret,
  secp256k1PairFromSeed,
  sr25519PairFromSeed,
} from "@polkadot/util-crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { cryptoReady, pairFromSuri } from "../../../../src/keys/substrate/keyPair.js";
import { DEV_PHRASE } from "../../../../src/keys/substrate/suri.js";

beforeAll(async () => {
  await cryptoReady();
  await cryptoWaitReady();
});

/** The independent derivation: @polkadot/util-crypto (test-only dependency). */
function reference(type: "sr25519" | "ed25519" | "ecdsa", suri: string): string {
  const { phrase, path, password } = keyExtractSuri(suri.startsWith("/") ? `${DEV_PHRASE}${suri}` : suri);
  const seed = phrase.startsWith("0x") ? Buffer.from(phrase.slice(2), "hex") : mnemonicToMiniSecret(phrase, password);
  const root =
    type === "sr25519"
      ? sr25519PairFromSeed(seed)
      : type === "ed25519"
        ? ed25519PairFromSeed(seed)
        : secp256k1PairFromSeed(seed);
  return Buffer.from(keyFromPath(root, path, type).publicKey).toString("hex");
}

describe("secret URI derivation matches @polkadot/util-crypto", () => {
  const suris = [
    "//Alice",
    "//Alice//stash",
    "//1//2",
    "//18446744073709551615",
    `${DEV_PHRASE}//a-very-long-junction-name-that-is-hashed-because-it-exceeds-32-bytes`,
    `${DEV_PHRASE}//polkadot///secret password`,
    "0x736c61736867756172642073756273747261746520766563746f727320303100//Alice",
  ];
  for (const type of ["sr25519", "ed25519", "ecdsa"] as const) {
    it.each(suris)(`${type} %s`, (suri) => {
      expect(Buffer.from(pairFromSuri(type, suri).publicKey).toString("hex")).toBe(reference(type, suri));
    });
  }

  it.each(["//Alice/soft", "//Alice//hard/soft/2"])("sr25519 soft junctions %s", (suri) => {
    expect(Buffer.from(pairFromSuri("sr25519", suri).publicKey).toString("hex")).toBe(reference("sr25519", suri));
  });

  it("refuses soft junctions for ed25519 and ecdsa, bad phrases and bad seeds with ERR_SUBSTRATE_SURI", () => {
    for (const [type, suri] of [
      ["ed25519", "//Alice/soft"],
      ["ecdsa", "//Alice/soft"],
      ["sr25519", "bottom drive obey lake curtain smoke basket hold race lonely fit fit"],
      ["sr25519", "0x1234"],
      ["sr25519", "not/a//valid///uri\n"],
    ] as const) {
      expect(() => pairFromSuri(type, suri)).toThrow(expect.objectContaining({ code: "ERR_SUBSTRATE_SURI" }));
    }
  });
});
