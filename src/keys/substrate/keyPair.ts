import { createPrivateKey, createPublicKey, sign as edSign, type KeyObject, randomBytes } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { blake2b } from "@noble/hashes/blake2.js";
import {
  bip39ToMiniSecret,
  sr25519DeriveKeypairHard,
  sr25519DeriveKeypairSoft,
  sr25519KeypairFromSeed,
  sr25519Sign,
  waitReady,
} from "@polkadot/wasm-crypto";
import { type KeyCrypto as CryptoType, KeyError, KeyErrorCode } from "./errors.js";
import { type ParsedSuri, parseSuri } from "./suri.js";
import { type VrfSignature, type VrfTranscriptSpec, vrfSign } from "./vrf.js";

/** A key pair ready to sign. The secret never leaves this object (no getter; logs never see it). */
export interface KeyPair {
  readonly crypto: CryptoType;
  readonly publicKey: Uint8Array;
  /** What sp_core's Pair::sign produces for this crypto type. */
  sign(message: Uint8Array): Uint8Array;
  /** ecdsa only: sign a 32-byte hash as given (BEEFY). */
  signPrehashed?(hash: Uint8Array): Uint8Array;
  /** sr25519 only: schnorrkel VRF over a Merlin transcript. */
  vrfSign?(spec: VrfTranscriptSpec, extra: VrfTranscriptSpec | null): VrfSignature;
}

let ready: Promise<boolean> | null = null;

/** The sr25519 WASM must be initialised once before the first key is derived. */
export function cryptoReady(): Promise<boolean> {
  ready ??= waitReady();
  return ready;
}

function badSuri(detail: string): KeyError {
  return new KeyError(KeyErrorCode.BadSuri, detail);
}

/** The 32-byte root seed of a SURI (substrate-bip39: PBKDF2 over the phrase's entropy, salt "mnemonic"+password). */
function rootSeed(s: ParsedSuri): Uint8Array {
  if (s.seed !== null) return s.seed;
  try {
    return bip39ToMiniSecret(s.phrase!, s.password ?? "");
  } catch {
    throw badSuri("the phrase is not a valid BIP-39 English mnemonic");
  }
}

/** SCALE((tag: &str, seed: [u8; 32], chain code: [u8; 32])) hashed with blake2_256: ed25519/ecdsa hard derivation. */
function hardDerive(tag: string, seed: Uint8Array, chainCode: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(tag);
  return blake2b(new Uint8Array([t.length << 2, ...t, ...seed, ...chainCode]), { dkLen: 32 });
}

/** Derives the pair of a secret URI for one crypto type, exactly as sp_core Pair::from_string does. */
export function pairFromSuri(crypto: CryptoType, suri: string): KeyPair {
  const s = parseSuri(suri);
  if (crypto === "sr25519") {
    let kp = sr25519KeypairFromSeed(rootSeed(s));
    for (const j of s.junctions) {
      kp = j.hard ? sr25519DeriveKeypairHard(kp, j.chainCode) : sr25519DeriveKeypairSoft(kp, j.chainCode);
    }
    return sr25519Pair(kp);
  }
  const seed = derivedSeed(crypto, s);
  return crypto === "ed25519" ? ed25519Pair(seed) : ecdsaPair(seed);
}

/** The secret seed of an ed25519 SURI (what `keys hsm import` stores in a token). */
export function ed25519SeedFromSuri(suri: string): Uint8Array {
  return derivedSeed("ed25519", parseSuri(suri));
}

function derivedSeed(crypto: "ed25519" | "ecdsa", s: ParsedSuri): Uint8Array {
  let seed = rootSeed(s);
  for (const j of s.junctions) {
    if (!j.hard) throw badSuri(`${crypto} keys have no soft derivation (use // junctions)`);
    seed = hardDerive(crypto === "ed25519" ? "Ed25519HDKD" : "Secp256k1HDKD", seed, j.chainCode);
  }
  return seed;
}

/** A fresh random key, returned with the SURI (0x seed) that the keystore file stores. */
export function generatePair(crypto: CryptoType): { pair: KeyPair; suri: string } {
  const suri = `0x${randomBytes(32).toString("hex")}`;
  return { pair: pairFromSuri(crypto, suri), suri };
}

function sr25519Pair(kp: Uint8Array): KeyPair {
  const secret = kp.slice(0, 64);
  const publicKey = kp.slice(64, 96);
  return {
    crypto: "sr25519",
    publicKey,
    // schnorrkel with signing context "substrate", randomised
    sign: (message) => sr25519Sign(publicKey, secret, message),
    vrfSign: (spec, extra) => vrfSign({ secret, publicKey }, spec, extra),
  };
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410), so node:crypto (OpenSSL) signs with it.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function ed25519Pair(seed: Uint8Array): KeyPair {
  const key: KeyObject = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  return { crypto: "ed25519", publicKey, sign: (message) => new Uint8Array(edSign(null, message, key)) };
}

function ecdsaPair(secret: Uint8Array): KeyPair {
  if (!secp256k1.utils.isValidSecretKey(secret)) throw badSuri("the seed is not a valid secp256k1 secret key");
  const publicKey = secp256k1.getPublicKey(secret, true);
  // r ‖ s ‖ recovery id, RFC 6979, low s (sp_core ecdsa::Pair::sign_prehashed)
  const signPrehashed = (hash: Uint8Array): Uint8Array => {
    if (hash.length !== 32) {
      throw new KeyError(KeyErrorCode.BadPrehash, "a prehash must be 32 bytes");
    }
    const rec = secp256k1.sign(hash, secret, { prehash: false, format: "recovered", lowS: true });
    const out = new Uint8Array(65);
    out.set(rec.subarray(1, 65), 0);
    out[64] = rec[0]!;
    return out;
  };
  return {
    crypto: "ecdsa",
    publicKey,
    sign: (message) => signPrehashed(blake2b(message, { dkLen: 32 })),
    signPrehashed,
  };
}
