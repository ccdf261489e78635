import { BadRequestError } from "../../util/errors.js";
import type { KeyActivity } from "../../util/keyActivity.js";
import { parseU64 } from "../../util/u64.js";

/**
 * What the host agent reads from a CometBFT node and its home directory: public data only. Kept apart
 * from the privval code of this folder (agent* files are the agent's).
 */
export interface CometStatus {
  network: string;
  nodeVersion: string;
  moniker: string;
  catchingUp: boolean;
  latestBlockHeight: bigint;
  /** The validator key the node itself reports (its priv_validator or remote signer's key). */
  validator: { address: string; pubkey: string; keyType: string; votingPower: bigint } | null;
}

export interface CometHomeKey {
  address: string;
  pubkey: string;
  keyType: string;
}

const KEY_TYPES: Record<string, { name: string; length: number }> = {
  "tendermint/PubKeyEd25519": { name: "ed25519", length: 32 },
  "tendermint/PubKeySecp256k1": { name: "secp256k1", length: 33 },
};

/** Parses the JSON-RPC answer of GET /status (envelope or bare result). */
export function parseCometStatus(body: unknown): CometStatus {
  const env = obj(body, "body");
  if (env.error !== undefined && env.error !== null) throw new BadRequestError("node answered an error", "error");
  const r = "result" in env ? obj(env.result, "result") : env;
  const node = obj(r.node_info, "node_info");
  const sync = obj(r.sync_info, "sync_info");
  if (typeof sync.catching_up !== "boolean")
    throw new BadRequestError("sync_info.catching_up must be a boolean", "catching_up");
  const vi =
    r.validator_info === undefined || r.validator_info === null ? null : obj(r.validator_info, "validator_info");
  let validator: CometStatus["validator"] = null;
  if (vi !== null && vi.pub_key !== undefined && vi.pub_key !== null) {
    const key = parsePubKey(vi.pub_key, "validator_info.pub_key");
    validator = {
      address: hexAddress(vi.address, "validator_info.address"),
      ...key,
      votingPower: parseU64(vi.voting_power, "validator_info.voting_power"),
    };
  }
  return {
    network: str(node.network),
    nodeVersion: str(node.version),
    moniker: str(node.moniker),
    catchingUp: sync.catching_up,
    latestBlockHeight: parseU64(sync.latest_block_height ?? "0", "sync_info.latest_block_height"),
    validator,
  };
}

/** The public part of priv_validator_key.json; the private key in the same file is never read out. */
export function parsePrivValidatorKeyPublic(body: unknown): CometHomeKey {
  const o = obj(body, "priv_validator_key.json");
  return { address: hexAddress(o.address, "address"), ...parsePubKey(o.pub_key, "pub_key") };
}

/**
 * The two settings of config.toml the agent needs, from its base section (before the first table):
 * whether the node signs with a remote signer (priv_validator_laddr) and where its key file is.
 */
export function parseCometConfigToml(text: string): { privValidatorLaddr: string; privValidatorKeyFile: string } {
  let laddr = "";
  let keyFile = "config/priv_validator_key.json";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("[")) break;
    const m = /^([A-Za-z0-9_.-]+)\s*=\s*"([^"]*)"\s*(#.*)?$/.exec(line);
    if (m === null) continue;
    if (m[1] === "priv_validator_laddr") laddr = m[2]!;
    if (m[1] === "priv_validator_key_file") keyFile = m[2]!;
  }
  return { privValidatorLaddr: laddr, privValidatorKeyFile: keyFile };
}

/** What an agent reports about one CometBFT validator key (wire form). */
export interface CometKeyFactsWire {
  /** The node's /status names this key as its validator key. */
  node_key: boolean;
  /** The key is in the home directory's priv_validator_key.json. */
  file_key: boolean;
  /** The node signs with its local key file (priv_validator_laddr is empty). */
  local_signer: boolean;
  voting_power: string | null;
  catching_up: boolean | null;
}

export function parseCometFacts(v: unknown): CometKeyFactsWire {
  const o = obj(v, "facts");
  for (const f of ["node_key", "file_key", "local_signer"] as const)
    if (typeof o[f] !== "boolean") throw new BadRequestError(`facts.${f} must be a boolean`, `facts.${f}`);
  const vp = o.voting_power ?? null;
  if (vp !== null) parseU64(vp, "facts.voting_power");
  const cu = o.catching_up ?? null;
  if (cu !== null && typeof cu !== "boolean")
    throw new BadRequestError("facts.catching_up must be a boolean", "facts.catching_up");
  return {
    node_key: o.node_key as boolean,
    file_key: o.file_key as boolean,
    local_signer: o.local_signer as boolean,
    voting_power: vp as string | null,
    catching_up: cu as boolean | null,
  };
}

/**
 * CometBFT: the node signs with a local key when it is a validator with voting power, not catching up,
 * and its priv_validator_laddr is empty. A node behind a remote signer holds no key: that signer decides.
 */
export function cometActivity(f: CometKeyFactsWire): KeyActivity {
  const active =
    f.node_key && f.local_signer && f.catching_up === false && f.voting_power !== null && BigInt(f.voting_power) > 0n;
  return { active, certainty: active ? 1 : 0, signerId: null };
}

function parsePubKey(v: unknown, field: string): { pubkey: string; keyType: string } {
  const o = obj(v, field);
  const t = typeof o.type === "string" ? KEY_TYPES[o.type] : undefined;
  if (t === undefined) throw new BadRequestError(`${field}.type is not a supported key type`, field);
  if (typeof o.value !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(o.value))
    throw new BadRequestError(`${field}.value must be base64`, field);
  const bytes = Buffer.from(o.value, "base64");
  if (bytes.length !== t.length) throw new BadRequestError(`${field}.value must hold ${t.length} bytes`, field);
  return { pubkey: `0x${bytes.toString("hex")}`, keyType: t.name };
}

function hexAddress(v: unknown, field: string): string {
  if (typeof v !== "string" || !/^[0-9a-fA-F]{40}$/.test(v))
    throw new BadRequestError(`${field} must be 40 hex characters`, field);
  return v.toUpperCase();
}

function str(v: unknown): string {
  return typeof v === "string" ? v.slice(0, 256) : "";
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BadRequestError(`${field} must be a JSON object`, field);
  return v as Record<string, unknown>;
}
