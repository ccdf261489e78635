import { BadRequestError } from "../../util/errors.js";
import type { KeyActivity } from "../../util/keyActivity.js";

/** Key types whose double use is slashable (equivocation or disputes); others are reported, never alerted. */
const SLASHABLE_KEY_TYPES: ReadonlySet<string> = new Set(["babe", "gran", "para", "beef"]);

/** Public key lengths per key type (sr25519 and ed25519: 32 bytes; BEEFY ecdsa: 33 compressed). */
const KEY_LENGTH: Record<string, number> = { babe: 32, gran: 32, imon: 32, audi: 32, para: 32, asgn: 32, beef: 33 };

export interface KeystoreEntry {
  keyType: string;
  pubkey: string;
}

/**
 * A Substrate keystore file name is hex(key type, 4 bytes) followed by hex(public key); the file holds
 * the secret and is never opened. Returns null for names that are not keystore entries.
 */
export function keystoreEntryFromFileName(name: string): KeystoreEntry | null {
  if (!/^[0-9a-f]{8}[0-9a-f]+$/.test(name)) return null;
  const keyType = Buffer.from(name.slice(0, 8), "hex").toString("latin1");
  const len = KEY_LENGTH[keyType];
  if (len === undefined || name.length !== 8 + 2 * len) return null;
  return { keyType, pubkey: `0x${name.slice(8)}` };
}

/** `system_nodeRoles` answers e.g. `["Authority"]` for a node started with --validator. */
export function parseNodeRoles(result: unknown): string[] {
  if (!Array.isArray(result) || !result.every((r) => typeof r === "string"))
    throw new BadRequestError("system_nodeRoles must answer an array of strings", "result");
  return result as string[];
}

/** `author_hasKey` / `author_hasSessionKeys` answer a boolean. */
export function parseRpcBool(result: unknown, method: string): boolean {
  if (typeof result !== "boolean") throw new BadRequestError(`${method} must answer a boolean`, "result");
  return result;
}

/** What an agent reports about one Substrate session key (wire form). */
export interface SubstrateKeyFactsWire {
  key_type: string;
  /** The node runs with the Authority role (--validator). */
  authority: boolean | null;
  /** author_hasKey: the node's keystore holds the private key. */
  has_key: boolean | null;
  /** author_hasSessionKeys for the configured session keys, when the operator gave them. */
  session_keys: boolean | null;
}

export function parseSubstrateFacts(v: unknown): SubstrateKeyFactsWire {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BadRequestError("facts must be an object", "facts");
  const o = v as Record<string, unknown>;
  if (typeof o.key_type !== "string" || KEY_LENGTH[o.key_type] === undefined)
    throw new BadRequestError("facts.key_type must be a known session key type", "facts.key_type");
  for (const f of ["authority", "has_key", "session_keys"] as const) {
    const x = o[f] ?? null;
    if (x !== null && typeof x !== "boolean") throw new BadRequestError(`facts.${f} must be a boolean`, `facts.${f}`);
  }
  return {
    key_type: o.key_type,
    authority: (o.authority ?? null) as boolean | null,
    has_key: (o.has_key ?? null) as boolean | null,
    session_keys: (o.session_keys ?? null) as boolean | null,
  };
}

/**
 * Substrate: a node with the Authority role whose keystore holds a slashable session key signs with it.
 * Certainty is full when author_hasSessionKeys confirmed the whole session key set.
 */
export function substrateActivity(f: SubstrateKeyFactsWire): KeyActivity {
  const active = SLASHABLE_KEY_TYPES.has(f.key_type) && f.authority === true && f.has_key === true;
  return { active, certainty: active ? (f.session_keys === true ? 1 : 0.9) : 0, signerId: null };
}
