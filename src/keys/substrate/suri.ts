import { blake2b } from "@noble/hashes/blake2.js";
import { KeyError, KeyErrorCode } from "./errors.js";

/** The development phrase a SURI without a phrase (e.g. `//Alice`) stands for (sp_core DEV_PHRASE). */
export const DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

export interface Junction {
  hard: boolean;
  /** 32-byte chain code. */
  chainCode: Uint8Array;
}

export interface ParsedSuri {
  /** A BIP-39 phrase, or null when `seed` is set. */
  phrase: string | null;
  /** A 0x-hex 32-byte seed, or null when `phrase` is set. */
  seed: Uint8Array | null;
  junctions: Junction[];
  password: string | null;
}

// sp_core SecretUri: phrase, then //hard and /soft junctions, then ///password
const SURI_RE = /^([\p{L}\p{N}_ ]+)?((?:\/\/?[^/]+)*)(?:\/\/\/(.*))?$/u;
const JUNCTION_RE = /\/\/?[^/]+/g;

function badSuri(detail: string): KeyError {
  return new KeyError(KeyErrorCode.BadSuri, detail);
}

/** Parses a secret URI as sp_core does. The error never repeats the secret. */
export function parseSuri(suri: string): ParsedSuri {
  const m = SURI_RE.exec(suri);
  if (m === null)
    throw badSuri("not a secret URI (phrase or 0x seed, then //hard or /soft junctions, then ///password)");
  const phrase = m[1] ?? DEV_PHRASE;
  const junctions = [...(m[2] ?? "").matchAll(JUNCTION_RE)].map((j) => junction(j[0]));
  const password = m[3] ?? null;
  if (phrase.startsWith("0x")) {
    const hex = phrase.slice(2);
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw badSuri("a 0x seed must be 32 bytes of hex");
    return { phrase: null, seed: new Uint8Array(Buffer.from(hex, "hex")), junctions, password };
  }
  return { phrase, seed: null, junctions, password };
}

/** DeriveJunction::from(&str): a u64 if the code parses as one (8 bytes LE), else SCALE(str); > 32 bytes is hashed. */
function junction(text: string): Junction {
  const hard = text.startsWith("//");
  const code = text.slice(hard ? 2 : 1);
  let encoded: Uint8Array;
  if (/^[0-9]+$/.test(code) && BigInt(code) < 1n << 64n) {
    encoded = new Uint8Array(8);
    new DataView(encoded.buffer).setBigUint64(0, BigInt(code), true);
  } else {
    const utf8 = new TextEncoder().encode(code);
    encoded = new Uint8Array([...compactLen(utf8.length), ...utf8]);
  }
  const chainCode = new Uint8Array(32);
  chainCode.set(encoded.length > 32 ? blake2b(encoded, { dkLen: 32 }) : encoded);
  return { hard, chainCode };
}

function compactLen(n: number): number[] {
  if (n < 64) return [n << 2];
  if (n < 1 << 14) return [((n << 2) | 1) & 0xff, n >> 6];
  return [((n << 2) | 2) & 0xff, (n >> 6) & 0xff, (n >> 14) & 0xff, (n >> 22) & 0xff];
}
