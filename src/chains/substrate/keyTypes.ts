import { SubstrateError, SubstrateErrorCode } from "./errors.js";
import { CRYPTO_TYPES, type CryptoType, PUBLIC_KEY_LENGTH } from "./types.js";

/** Session key types of a Polkadot-style relay chain (sp_core key_types and the polkadot primitives). */
export const KEY_TYPES = {
  babe: { crypto: "sr25519", use: "BABE block production (VRF slot claims, header seals)", slashable: true },
  gran: { crypto: "ed25519", use: "GRANDPA finality votes", slashable: true },
  para: { crypto: "sr25519", use: "parachain backing, availability bitfields, dispute votes", slashable: true },
  asgn: { crypto: "sr25519", use: "approval-voting assignments (VRF)", slashable: false },
  audi: { crypto: "sr25519", use: "authority discovery", slashable: false },
  beef: { crypto: "ecdsa", use: "BEEFY votes for bridges (signs a keccak-256 prehash)", slashable: true },
  imon: { crypto: "sr25519", use: "ImOnline heartbeats (older runtimes)", slashable: false },
} as const satisfies Record<string, { crypto: CryptoType; use: string; slashable: boolean }>;

const KEY_TYPE_RE = /^[\x21-\x7e]{4}$/;

/** A key type id: exactly four printable ASCII characters (`babe`, `gran`, …). */
export function parseKeyType(v: unknown): string {
  if (typeof v !== "string" || !KEY_TYPE_RE.test(v)) {
    throw new SubstrateError({ code: SubstrateErrorCode.KeyType, keyType: String(v) });
  }
  return v;
}

export function parseCryptoType(v: unknown): CryptoType {
  if (typeof v !== "string" || !(CRYPTO_TYPES as readonly string[]).includes(v)) {
    throw new SubstrateError({ code: SubstrateErrorCode.CryptoType, cryptoType: String(v) });
  }
  return v as CryptoType;
}

export function checkPublicKey(crypto: CryptoType, key: Uint8Array): Uint8Array {
  const expected = PUBLIC_KEY_LENGTH[crypto];
  if (key.length !== expected) {
    throw new SubstrateError({ code: SubstrateErrorCode.KeyLength, expected, given: key.length });
  }
  return key;
}
