import { createECDH, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { writeFileDurableAsync } from "../../util/durableFile.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";

/**
 * CometBFT priv_validator_key.json (FilePVKey): `address` (upper-case hex), `pub_key` and `priv_key` as
 * amino JSON `{type, value}`. Ed25519 (most chains; address = sha256(pub)[:20]) and secp256k1 (Story;
 * address = ripemd160(sha256(compressed pub))). The key is only ever copied between local files.
 */
export type KeyType = "ed25519" | "secp256k1";

export interface ValidatorKeyInfo {
  type: KeyType;
  /** Upper-case hex, as /status and commits print it. */
  address: string;
}

const TYPES: Record<string, { type: KeyType; priv: string; privLen: number; pubLen: number }> = {
  "tendermint/PubKeyEd25519": { type: "ed25519", priv: "tendermint/PrivKeyEd25519", privLen: 64, pubLen: 32 },
  "tendermint/PubKeySecp256k1": { type: "secp256k1", priv: "tendermint/PrivKeySecp256k1", privLen: 32, pubLen: 33 },
};

function bad(file: string, field: string, what: string): FailoverError {
  return new FailoverError({ code: FailoverErrorCode.KeyInvalid, file, field }, `${file}: ${field} ${what}`);
}

function b64(v: unknown, file: string, field: string, len: number): Buffer {
  if (typeof v !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) throw bad(file, field, "must be base64");
  const b = Buffer.from(v, "base64");
  if (b.length !== len) throw bad(file, field, `must hold ${len} bytes`);
  return b;
}

function amino(v: unknown, file: string, field: string): { type: string; value: unknown } {
  if (typeof v !== "object" || v === null || typeof (v as { type?: unknown }).type !== "string") {
    throw bad(file, field, "must be {type, value}");
  }
  return v as { type: string; value: unknown };
}

export function addressOf(type: KeyType, pub: Uint8Array): string {
  const sha = createHash("sha256").update(pub).digest();
  const addr = type === "ed25519" ? sha.subarray(0, 20) : createHash("ripemd160").update(sha).digest();
  return addr.toString("hex").toUpperCase();
}

/** The public key a private key yields, to prove a key file is consistent. */
function publicOf(type: KeyType, priv: Buffer): Buffer {
  if (type === "secp256k1") {
    const ecdh = createECDH("secp256k1");
    ecdh.setPrivateKey(priv);
    return ecdh.getPublicKey(null, "compressed");
  }
  const seed = priv.subarray(0, 32);
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const jwk = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" })).export({ format: "jwk" });
  return Buffer.from(jwk.x as string, "base64url");
}

/** Checks a key document: known type, sizes, private key matching the public key, address matching both. */
export function parseValidatorKey(doc: unknown, file: string): ValidatorKeyInfo {
  if (typeof doc !== "object" || doc === null) throw bad(file, "document", "is not an object");
  const o = doc as Record<string, unknown>;
  const pubA = amino(o.pub_key, file, "pub_key");
  const t = TYPES[pubA.type];
  if (t === undefined) throw bad(file, "pub_key.type", `${pubA.type} is not supported`);
  const privA = amino(o.priv_key, file, "priv_key");
  if (privA.type !== t.priv) throw bad(file, "priv_key.type", `must be ${t.priv}`);
  const pub = b64(pubA.value, file, "pub_key.value", t.pubLen);
  const priv = b64(privA.value, file, "priv_key.value", t.privLen);
  let derived: Buffer;
  try {
    derived = publicOf(t.type, priv);
  } catch {
    throw bad(file, "priv_key.value", "is not a valid private key");
  }
  if (!derived.equals(pub) || (t.type === "ed25519" && !priv.subarray(32).equals(pub))) {
    throw bad(file, "priv_key.value", "does not match pub_key");
  }
  const address = addressOf(t.type, pub);
  if (o.address !== undefined && (typeof o.address !== "string" || o.address.toUpperCase() !== address)) {
    throw bad(file, "address", "does not match pub_key");
  }
  return { type: t.type, address };
}

/** Reads a key file; `content` is copied verbatim when the key is installed. */
export async function readKeyFile(path: string): Promise<{ info: ValidatorKeyInfo; content: string }> {
  let content: string;
  try {
    content = await readFile(path, "utf8");
  } catch (e) {
    throw bad(path, "file", `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch {
    throw bad(path, "document", "is not JSON");
  }
  return { info: parseValidatorKey(doc, path), content };
}

/** Address of the key the node would load now, or null if the file is missing or unreadable. */
export async function installedKeyAddress(path: string): Promise<string | null> {
  try {
    return (await readKeyFile(path)).info.address;
  } catch {
    return null;
  }
}

/** A fresh key of the same type for a passive node: it can run and follow the chain, but signs nothing that counts. */
export function generateDummyKey(type: KeyType): string {
  let pub: Buffer;
  let priv: Buffer;
  if (type === "secp256k1") {
    const ecdh = createECDH("secp256k1");
    ecdh.generateKeys();
    priv = ecdh.getPrivateKey();
    if (priv.length < 32) priv = Buffer.concat([Buffer.alloc(32 - priv.length), priv]);
    pub = ecdh.getPublicKey(null, "compressed");
  } else {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const d = privateKey.export({ format: "jwk" }).d as string;
    pub = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
    priv = Buffer.concat([Buffer.from(d, "base64url"), pub]);
  }
  const t = type === "ed25519" ? "Ed25519" : "Secp256k1";
  const doc = {
    address: addressOf(type, pub),
    pub_key: { type: `tendermint/PubKey${t}`, value: pub.toString("base64") },
    priv_key: { type: `tendermint/PrivKey${t}`, value: priv.toString("base64") },
  };
  return JSON.stringify(doc, null, 2);
}

/** Puts a key file where the node reads it at its next start (atomic, mode 0600). */
export async function installKey(path: string, content: string): Promise<void> {
  await writeFileDurableAsync(path, content, { mode: 0o600, keepOwner: true });
}
