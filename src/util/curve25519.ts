import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";

// DER headers that wrap a raw 32-byte key for node:crypto (RFC 8410): PKCS#8 for private, SPKI for public.
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");

function rawPublic(key: KeyObject): Uint8Array {
  const der = createPublicKey(key).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** An Ed25519 key held as a node:crypto KeyObject (the seed never leaves it once loaded). */
export interface Ed25519Key {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function ed25519FromSeed(seed: Uint8Array): Ed25519Key {
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  const der = Buffer.concat([ED25519_PKCS8, seed]);
  const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  der.fill(0); // the KeyObject has its own copy
  const publicKey = rawPublic(key);
  return { publicKey, sign: (m) => new Uint8Array(sign(null, m, key)) };
}

export function ed25519Random(): Ed25519Key {
  const { privateKey } = generateKeyPairSync("ed25519");
  const publicKey = rawPublic(privateKey);
  return { publicKey, sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
}

export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, publicKey]), format: "der", type: "spki" });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  /** X25519 with the peer's public key; throws on a low-order peer key (an all-zero shared secret). */
  agree(peerPublic: Uint8Array): Uint8Array;
}

function x25519Pair(privateKey: KeyObject): X25519KeyPair {
  return {
    publicKey: rawPublic(privateKey),
    agree: (peer) => {
      if (peer.length !== 32) throw new RangeError("an X25519 public key is 32 bytes");
      const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI, peer]), format: "der", type: "spki" });
      const secret = new Uint8Array(diffieHellman({ privateKey, publicKey }));
      // OpenSSL already refuses most low-order points; the all-zero check is the rule itself.
      if (secret.every((b) => b === 0)) throw new RangeError("X25519 shared secret is all zero (low-order point)");
      return secret;
    },
  };
}

export function x25519Random(): X25519KeyPair {
  return x25519Pair(generateKeyPairSync("x25519").privateKey);
}

/** For test vectors only: a fixed secret scalar (clamped by X25519 itself). */
export function x25519FromSecret(secret: Uint8Array): X25519KeyPair {
  if (secret.length !== 32) throw new RangeError("an X25519 secret is 32 bytes");
  return x25519Pair(createPrivateKey({ key: Buffer.concat([X25519_PKCS8, secret]), format: "der", type: "pkcs8" }));
}
