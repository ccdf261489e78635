import { createHash } from "node:crypto";
import { BadRequestError } from "../util/errors.js";
import type { KeyActivity } from "../util/keyActivity.js";
import { CHAIN_FACTS, type ChainName, isChainName } from "./chainFacts.js";

/** Version of the agent → monitor report format. */
export const REPORT_VERSION = 1;

/** Bounds that keep one report small whatever an agent (or an attacker with a token) sends. */
export const REPORT_LIMITS = { sources: 64, keys: 10_000, infoEntries: 32, text: 512 } as const;

/**
 * Bytes of JSON of the largest key entry an agent writes, with headroom: an Ethereum remote key (a
 * 98-character public key, a source id and a signer URL of 200 characters each) is about 600 bytes;
 * Harmony (with a validator address), CometBFT and Substrate entries are smaller.
 */
const MAX_KEY_ENTRY_BYTES = 768;
/** Bytes of one source entry at most, with headroom: an id, an error and 32 short info entries. */
const MAX_SOURCE_ENTRY_BYTES = 4096;
/**
 * The default body limit of a report: the documented maximum (REPORT_LIMITS.keys keys of the largest
 * entry and every source) fits, so the largest host a monitor accepts is never refused for its size.
 */
export const DEFAULT_MAX_REPORT_BYTES =
  REPORT_LIMITS.keys * MAX_KEY_ENTRY_BYTES + REPORT_LIMITS.sources * MAX_SOURCE_ENTRY_BYTES + 4096;

/** Wire form of an agent report (POST /api/v1/agent/reports). Public data only. */
export interface AgentReportWire {
  version: 1;
  host: string;
  agent_version: string;
  interval_ms: number;
  /** Unix milliseconds at which the agent collected this report. */
  observed_at: number;
  sources: SourceWire[];
  keys: KeyWire[];
}

export interface SourceWire {
  /** Stable id of the node source on this host, e.g. `harmony:http://127.0.0.1:9500`. */
  id: string;
  chain: ChainName;
  reachable: boolean;
  error?: string | null;
  /** Public node facts (network, node version, shard, peer id …). */
  info?: Record<string, string | number | boolean | null>;
}

export interface KeyWire {
  chain: ChainName;
  pubkey: string;
  key_type: string;
  source: string;
  facts: object;
}

export interface SourceReport {
  id: string;
  chain: ChainName;
  reachable: boolean;
  error: string | null;
  info: Record<string, string | number | boolean | null>;
}

export interface KeyReport {
  chain: ChainName;
  pubkey: string;
  keyType: string;
  source: string;
  facts: object;
  activity: KeyActivity;
}

export interface AgentReport {
  host: string;
  agentVersion: string;
  intervalMs: number;
  observedAt: number;
  sources: SourceReport[];
  keys: KeyReport[];
  /** SHA-256 of the canonical sources and keys: equal digests mean nothing changed on the host. */
  digest: Uint8Array;
  /** Canonical JSON of the report (what is stored as history). */
  canonical: string;
}

const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** Validates a report; every problem is ERR_BAD_REQUEST naming the field, and nothing is stored. */
export function parseReport(body: unknown): AgentReport {
  const o = obj(body, "report");
  if (o.version !== REPORT_VERSION) throw bad("version", `must be ${REPORT_VERSION}`);
  if (typeof o.host !== "string" || !HOST_RE.test(o.host))
    throw bad("host", "must be a host name ([A-Za-z0-9._-], up to 253)");
  const agentVersion = text(o.agent_version ?? "", "agent_version");
  const intervalMs = o.interval_ms;
  if (typeof intervalMs !== "number" || !Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 86_400_000)
    throw bad("interval_ms", "must be an integer between 100 and 86400000");
  const observedAt = o.observed_at;
  if (typeof observedAt !== "number" || !Number.isInteger(observedAt) || observedAt < 0 || observedAt > 8.64e15)
    throw bad("observed_at", "must be unix milliseconds");
  if (!Array.isArray(o.sources) || o.sources.length > REPORT_LIMITS.sources)
    throw bad("sources", `must be an array of at most ${REPORT_LIMITS.sources}`);
  if (!Array.isArray(o.keys) || o.keys.length > REPORT_LIMITS.keys)
    throw bad("keys", `must be an array of at most ${REPORT_LIMITS.keys}`);
  const sources = new Map<string, SourceReport>();
  o.sources.forEach((s: unknown, i: number) => {
    const src = parseSource(s, `sources[${i}]`);
    if (sources.has(src.id)) throw bad(`sources[${i}].id`, "is listed twice");
    sources.set(src.id, src);
  });
  const keys = new Map<string, KeyReport>();
  o.keys.forEach((k: unknown, i: number) => {
    const key = parseKey(k, `keys[${i}]`);
    const src = sources.get(key.source);
    if (src === undefined) throw bad(`keys[${i}].source`, "names no source of this report");
    if (src.chain !== key.chain) throw bad(`keys[${i}].chain`, "differs from its source's chain");
    const id = `${key.chain}|${key.pubkey}`;
    if (keys.has(id)) throw bad(`keys[${i}].pubkey`, "is listed twice for this chain");
    keys.set(id, key);
  });
  const sortedSources = [...sources.values()].sort((a, b) => cmp(a.id, b.id));
  const sortedKeys = [...keys.values()].sort((a, b) => cmp(a.chain, b.chain) || cmp(a.pubkey, b.pubkey));
  const content = JSON.stringify({
    sources: sortedSources,
    keys: sortedKeys.map(({ activity: _a, keyType, ...k }) => ({ ...k, key_type: keyType })),
  });
  return {
    host: o.host,
    agentVersion,
    intervalMs,
    observedAt,
    sources: sortedSources,
    keys: sortedKeys,
    digest: new Uint8Array(createHash("sha256").update(content).digest()),
    canonical: content,
  };
}

function parseSource(v: unknown, field: string): SourceReport {
  const o = obj(v, field);
  const id = text(o.id, `${field}.id`);
  if (id.length === 0) throw bad(`${field}.id`, "must not be empty");
  if (!isChainName(o.chain)) throw bad(`${field}.chain`, "must be harmony, cometbft, ethereum or substrate");
  if (typeof o.reachable !== "boolean") throw bad(`${field}.reachable`, "must be a boolean");
  const error = o.error === undefined || o.error === null ? null : text(o.error, `${field}.error`);
  const info: SourceReport["info"] = {};
  if (o.info !== undefined) {
    const i = obj(o.info, `${field}.info`);
    const entries = Object.entries(i);
    if (entries.length > REPORT_LIMITS.infoEntries) throw bad(`${field}.info`, "has too many entries");
    for (const [k, x] of entries.sort(([a], [b]) => cmp(a, b))) {
      if (!/^[a-z0-9_]{1,64}$/.test(k)) throw bad(`${field}.info`, "keys must be [a-z0-9_]");
      if (x === null || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x))) info[k] = x;
      else if (typeof x === "string") info[k] = text(x, `${field}.info.${k}`);
      else throw bad(`${field}.info.${k}`, "must be a string, number, boolean or null");
    }
  }
  return { id, chain: o.chain, reachable: o.reachable, error, info };
}

function parseKey(v: unknown, field: string): KeyReport {
  const o = obj(v, field);
  if (!isChainName(o.chain)) throw bad(`${field}.chain`, "must be harmony, cometbft, ethereum or substrate");
  const spec = CHAIN_FACTS[o.chain];
  const pubkey = typeof o.pubkey === "string" ? o.pubkey.toLowerCase() : "";
  if (!spec.pubkey.test(pubkey)) throw bad(`${field}.pubkey`, `is not a ${o.chain} public key (0x-hex)`);
  if (typeof o.key_type !== "string" || !spec.keyTypes.includes(o.key_type))
    throw bad(`${field}.key_type`, `must be one of ${spec.keyTypes.join(", ")}`);
  const source = text(o.source, `${field}.source`);
  let facts: object;
  try {
    facts = spec.parse(o.facts);
  } catch (e) {
    if (e instanceof BadRequestError) throw bad(`${field}.${e.type.field ?? "facts"}`, e.message);
    throw e;
  }
  return { chain: o.chain, pubkey, keyType: o.key_type, source, facts, activity: spec.activity(facts) };
}

function text(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length > REPORT_LIMITS.text)
    throw bad(field, `must be a string of at most ${REPORT_LIMITS.text} characters`);
  return v;
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(field, "must be a JSON object");
  return v as Record<string, unknown>;
}

function bad(field: string, what: string): BadRequestError {
  return new BadRequestError(`${field} ${what}`, field);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
