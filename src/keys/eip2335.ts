import {
  createCipheriv,
  createDecipheriv,
  createHash,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  randomUUID,
  scrypt,
  scryptSync,
} from "node:crypto";
import { promisify } from "node:util";
import { KeyError, KeyErrorCode } from "./errors.js";

const scryptAsync = promisify(scrypt) as (pw: Buffer, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

/** EIP-2335 keystore (version 4), as found in NAME.json files. */
export interface Eip2335Keystore {
  crypto: {
    kdf: { function: "scrypt" | "pbkdf2"; params: Record<string, unknown>; message: string };
    checksum: { function: "sha256"; params: Record<string, unknown>; message: string };
    cipher: { function: "aes-128-ctr"; params: { iv: string }; message: string };
  };
  description?: string;
  pubkey?: string;
  path: string;
  uuid: string;
  version: 4;
}

/** KDF work: EIP-2335's recommended values by default; lighter settings are for demos and tests only. */
export interface KdfOptions {
  kdf: "scrypt" | "pbkdf2";
  /** scrypt n (power of two) or pbkdf2 c. */
  work?: number;
}

export const DEFAULT_SCRYPT_N = 262_144;
export const DEFAULT_PBKDF2_C = 262_144;

/**
 * The KDF work a keystore may ask for. Defaults: what EIP-2335 tools write (its test vectors,
 * staking-deposit-cli, Lighthouse, Prysm: scrypt n = 2^18, r = 8, p = 1, i.e. 256 MiB and about a
 * second; pbkdf2 c = 2^18). A keystore above them is refused before any work (ERR_KEYSTORE_KDF_LIMIT):
 * n = 2^24 would take 16 GiB. r and p stay at the tools' values; n and c may be raised by the operator.
 */
export interface KdfLimits {
  maxScryptN: number;
  maxPbkdf2C: number;
}

export const DEFAULT_KDF_LIMITS: KdfLimits = { maxScryptN: DEFAULT_SCRYPT_N, maxPbkdf2C: DEFAULT_PBKDF2_C };
/** The most a limit may be raised to: scrypt 2^21 with r = 8 is 2 GiB for one keystore. */
export const KDF_LIMIT_CEILING = 1 << 21;
const MAX_SCRYPT_R = 8;
const MAX_SCRYPT_P = 1;

/** NFKD, then C0, C1 and DEL control codes removed (EIP-2335 password processing). */
export function processPassword(password: string): Buffer {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control codes is the point
  return Buffer.from(password.normalize("NFKD").replace(/[\u0000-\u001f\u007f-\u009f]/g, ""), "utf8");
}

const HEX = /^[0-9a-fA-F]*$/;

function hexField(v: unknown, field: string, file?: string): Buffer {
  if (typeof v !== "string" || !HEX.test(v) || v.length % 2 !== 0) throw invalid(field, file);
  return Buffer.from(v, "hex");
}

function invalid(field: string, file?: string): KeyError {
  return new KeyError(
    file === undefined
      ? { code: KeyErrorCode.KeystoreInvalid, field }
      : { code: KeyErrorCode.KeystoreInvalid, file, field },
    `keystore${file === undefined ? "" : ` ${file}`} is invalid: ${field}`,
  );
}

function positiveInt(v: unknown, field: string, max: number, file?: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > max) throw invalid(field, file);
  return v;
}

/** Checks the structure of an untrusted JSON value and returns it typed. */
export function parseKeystore(json: unknown, file?: string): Eip2335Keystore {
  const k = json as Eip2335Keystore;
  if (typeof json !== "object" || json === null) throw invalid("document", file);
  if (k.version !== 4) throw invalid("version", file);
  const c = k.crypto;
  if (typeof c !== "object" || c === null) throw invalid("crypto", file);
  if (c.kdf?.function !== "scrypt" && c.kdf?.function !== "pbkdf2") throw invalid("crypto.kdf.function", file);
  if (c.checksum?.function !== "sha256") throw invalid("crypto.checksum.function", file);
  if (c.cipher?.function !== "aes-128-ctr") throw invalid("crypto.cipher.function", file);
  if (hexField(c.cipher.params?.iv, "crypto.cipher.params.iv", file).length !== 16)
    throw invalid("crypto.cipher.params.iv", file);
  if (hexField(c.cipher.message, "crypto.cipher.message", file).length !== 32)
    throw invalid("crypto.cipher.message", file);
  if (hexField(c.checksum.message, "crypto.checksum.message", file).length !== 32)
    throw invalid("crypto.checksum.message", file);
  if (k.pubkey !== undefined && k.pubkey !== "" && hexField(k.pubkey, "pubkey", file).length !== 48)
    throw invalid("pubkey", file);
  return k;
}

type KdfParams =
  | { fn: "scrypt"; salt: Buffer; dklen: number; n: number; r: number; p: number }
  | { fn: "pbkdf2"; salt: Buffer; dklen: number; c: number };

/** The keystore's KDF parameters, checked against the limits before any work is done. */
export function kdfParams(k: Eip2335Keystore, limits: KdfLimits = DEFAULT_KDF_LIMITS, file?: string): KdfParams {
  const p = k.crypto.kdf.params;
  const salt = hexField(p.salt, "crypto.kdf.params.salt", file);
  const dklen = positiveInt(p.dklen, "crypto.kdf.params.dklen", 64, file);
  if (dklen < 32) throw invalid("crypto.kdf.params.dklen", file);
  if (k.crypto.kdf.function === "scrypt") {
    const n = positiveInt(p.n, "crypto.kdf.params.n", Number.MAX_SAFE_INTEGER, file);
    if (n < 2 || (n & (n - 1)) !== 0) throw invalid("crypto.kdf.params.n", file);
    const r = positiveInt(p.r, "crypto.kdf.params.r", Number.MAX_SAFE_INTEGER, file);
    const pp = positiveInt(p.p, "crypto.kdf.params.p", Number.MAX_SAFE_INTEGER, file);
    overLimit("crypto.kdf.params.n", n, limits.maxScryptN, file);
    overLimit("crypto.kdf.params.r", r, MAX_SCRYPT_R, file);
    overLimit("crypto.kdf.params.p", pp, MAX_SCRYPT_P, file);
    return { fn: "scrypt", salt, dklen, n, r, p: pp };
  }
  if (p.prf !== "hmac-sha256") throw invalid("crypto.kdf.params.prf", file);
  const c = positiveInt(p.c, "crypto.kdf.params.c", Number.MAX_SAFE_INTEGER, file);
  overLimit("crypto.kdf.params.c", c, limits.maxPbkdf2C, file);
  return { fn: "pbkdf2", salt, dklen, c };
}

function overLimit(field: string, value: number, max: number, file?: string): void {
  if (value <= max) return;
  throw new KeyError(
    { code: KeyErrorCode.KeystoreKdfLimit, ...(file === undefined ? {} : { file }), field, value, max },
    `keystore${file === undefined ? "" : ` ${file}`} asks for ${field} = ${value}, above the limit ${max}`,
  );
}

/** scrypt's own memory cap must admit the parameters (128 * n * r * p bytes, plus headroom). */
const scryptMaxmem = (q: { n: number; r: number; p: number }): number => 128 * q.n * q.r * q.p + (1 << 24);

async function deriveKey(k: Eip2335Keystore, password: string, limits: KdfLimits, file?: string): Promise<Buffer> {
  const q = kdfParams(k, limits, file);
  const pw = processPassword(password);
  if (q.fn === "scrypt") return scryptAsync(pw, q.salt, q.dklen, { N: q.n, r: q.r, p: q.p, maxmem: scryptMaxmem(q) });
  return pbkdf2Async(pw, q.salt, q.c, q.dklen, "sha256");
}

/** The same on the calling thread (a worker's: it keeps libuv's thread pool free for file I/O). */
function deriveKeySync(k: Eip2335Keystore, password: string, limits: KdfLimits, file?: string): Buffer {
  const q = kdfParams(k, limits, file);
  const pw = processPassword(password);
  if (q.fn === "scrypt") return scryptSync(pw, q.salt, q.dklen, { N: q.n, r: q.r, p: q.p, maxmem: scryptMaxmem(q) });
  return pbkdf2Sync(pw, q.salt, q.c, q.dklen, "sha256");
}

/** Decrypts a keystore; a wrong password is ERR_KEYSTORE_PASSWORD (checked through the checksum). */
export async function decryptKeystore(
  k: Eip2335Keystore,
  password: string,
  file?: string,
  limits: KdfLimits = DEFAULT_KDF_LIMITS,
): Promise<Uint8Array> {
  return decipher(k, await deriveKey(k, password, limits, file), file);
}

/** decryptKeystore on the calling thread (worker threads). */
export function decryptKeystoreSync(
  k: Eip2335Keystore,
  password: string,
  file?: string,
  limits: KdfLimits = DEFAULT_KDF_LIMITS,
): Uint8Array {
  return decipher(k, deriveKeySync(k, password, limits, file), file);
}

function decipher(k: Eip2335Keystore, dk: Buffer, file?: string): Uint8Array {
  const cipherText = hexField(k.crypto.cipher.message, "crypto.cipher.message", file);
  const checksum = createHash("sha256").update(dk.subarray(16, 32)).update(cipherText).digest();
  if (!checksum.equals(hexField(k.crypto.checksum.message, "crypto.checksum.message", file))) {
    dk.fill(0);
    throw new KeyError(
      file === undefined ? { code: KeyErrorCode.KeystorePassword } : { code: KeyErrorCode.KeystorePassword, file },
      `wrong password for keystore${file === undefined ? "" : ` ${file}`}`,
    );
  }
  const iv = hexField(k.crypto.cipher.params.iv, "crypto.cipher.params.iv", file);
  const d = createDecipheriv("aes-128-ctr", dk.subarray(0, 16), iv);
  const secret = Buffer.concat([d.update(cipherText), d.final()]);
  dk.fill(0);
  return new Uint8Array(secret);
}

/** Encrypts a 32-byte secret key into a version 4 keystore. */
export async function encryptKeystore(
  secret: Uint8Array,
  pubkey: Uint8Array,
  password: string,
  opts: KdfOptions = { kdf: "scrypt" },
  path = "",
): Promise<Eip2335Keystore> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const params: Record<string, unknown> =
    opts.kdf === "scrypt"
      ? { dklen: 32, n: opts.work ?? DEFAULT_SCRYPT_N, r: 8, p: 1, salt: salt.toString("hex") }
      : { dklen: 32, c: opts.work ?? DEFAULT_PBKDF2_C, prf: "hmac-sha256", salt: salt.toString("hex") };
  const k: Eip2335Keystore = {
    crypto: {
      kdf: { function: opts.kdf, params, message: "" },
      checksum: { function: "sha256", params: {}, message: "" },
      cipher: { function: "aes-128-ctr", params: { iv: iv.toString("hex") }, message: "" },
    },
    description: "",
    pubkey: Buffer.from(pubkey).toString("hex"),
    path,
    uuid: randomUUID(),
    version: 4,
  };
  // the caller chose the work: no limit applies to what we write
  const dk = await deriveKey(k, password, { maxScryptN: Number.MAX_SAFE_INTEGER, maxPbkdf2C: Number.MAX_SAFE_INTEGER });
  const c = createCipheriv("aes-128-ctr", dk.subarray(0, 16), iv);
  const cipherText = Buffer.concat([c.update(secret), c.final()]);
  k.crypto.cipher.message = cipherText.toString("hex");
  k.crypto.checksum.message = createHash("sha256").update(dk.subarray(16, 32)).update(cipherText).digest("hex");
  dk.fill(0);
  return k;
}
