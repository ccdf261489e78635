import { AppError } from "../../util/errors.js";

/** Consensus modes of a Harmony node (consensus/enums.go). */
export type HarmonyMode = "Normal" | "ViewChanging" | "Syncing" | "Listening";
const MODES: readonly string[] = ["Normal", "ViewChanging", "Syncing", "Listening"];

/** What the monitor needs from `hmyv2_getNodeMetadata`, in camelCase; the wire keys are kebab-case. */
export interface NodeMetadata {
  /** 0x-prefixed lower-case hex of every BLS key loaded on the node (96 hex characters each). */
  blsKeys: string[];
  version: string;
  network: string;
  shardId: number;
  mode: HarmonyMode;
  phase: string;
  isBackup: boolean;
  isLeader: boolean;
  role: string;
  peerId: string;
  /** Unix seconds. */
  nodeStartTime: number;
  currentEpoch: bigint | null;
  currentBlockNumber: bigint | null;
  viewId: bigint | null;
}

export enum HarmonyErrorCode {
  BadMetadata = "ERR_BAD_HARMONY_METADATA",
  RpcError = "ERR_HARMONY_RPC",
}

class HarmonyError extends AppError<{ code: HarmonyErrorCode; field?: string }> {}

const BLS_HEX_RE = /^(0x)?[0-9a-fA-F]{96}$/;

/** Canonical form of a Harmony BLS public key: 0x + 96 lower-case hex characters, or null. */
function normalizeBlsKey(v: string): string | null {
  if (!BLS_HEX_RE.test(v)) return null;
  return `0x${(v.startsWith("0x") ? v.slice(2) : v).toLowerCase()}`;
}

/**
 * Parses a JSON-RPC answer of `hmyv2_getNodeMetadata` (the whole envelope or its `result`). Unknown
 * keys are ignored and optional ones may be missing: the field set changed between node versions.
 */
export function parseNodeMetadata(body: unknown): NodeMetadata {
  const env = asObject(body, "body");
  if (env.error !== undefined && env.error !== null) {
    const msg =
      typeof (env.error as { message?: unknown }).message === "string"
        ? (env.error as { message: string }).message
        : "error";
    throw new HarmonyError({ code: HarmonyErrorCode.RpcError }, `node answered an error: ${msg.slice(0, 200)}`);
  }
  const r = "result" in env ? asObject(env.result, "result") : env;
  const keysRaw = r.blskey ?? [];
  if (!Array.isArray(keysRaw)) throw bad("blskey", "must be an array");
  const blsKeys = keysRaw.map((k, i) => {
    const n = typeof k === "string" ? normalizeBlsKey(k) : null;
    if (n === null) throw bad(`blskey[${i}]`, "must be 96 hex characters");
    return n;
  });
  const consensus = r.consensus === undefined ? {} : asObject(r.consensus, "consensus");
  const mode = consensus.mode;
  if (typeof mode !== "string" || !MODES.includes(mode))
    throw bad("consensus.mode", `must be one of ${MODES.join(", ")}`);
  const shard = r["shard-id"];
  if (typeof shard !== "number" || !Number.isInteger(shard) || shard < 0 || shard > 0xffffffff)
    throw bad("shard-id", "must be an unsigned 32-bit integer");
  const isBackup = r["is-backup"] ?? false;
  if (typeof isBackup !== "boolean") throw bad("is-backup", "must be a boolean");
  return {
    blsKeys: [...new Set(blsKeys)],
    version: str(r.version),
    network: str(r.network),
    shardId: shard,
    mode: mode as HarmonyMode,
    phase: str(consensus.phase),
    isBackup,
    isLeader: r["is-leader"] === true,
    role: str(r.role),
    peerId: str(r.peerid),
    nodeStartTime: typeof r["node-unix-start-time"] === "number" ? r["node-unix-start-time"] : 0,
    currentEpoch: u64OrNull(r["current-epoch"]),
    currentBlockNumber: u64OrNull(r["current-block-number"]),
    viewId: u64OrNull(consensus.viewId),
  };
}

/**
 * The node signs FBFT messages with its loaded keys in mode Normal or ViewChanging, unless it runs as a
 * backup (`--run.backup`): a backup reports Normal too but skips prepare, commit and view change.
 */
export function isActivelySigning(m: Pick<NodeMetadata, "mode" | "isBackup">): boolean {
  return (m.mode === "Normal" || m.mode === "ViewChanging") && !m.isBackup;
}

/** A Harmony key file name in a BLS key directory (`<pubkey>.key`, `.pass` or `.bls`), or null. */
export function blsKeyFromFileName(name: string): string | null {
  const m = /^([0-9a-fA-F]{96})\.(key|pass|bls)$/.exec(name);
  return m === null ? null : normalizeBlsKey(m[1]!);
}

function u64OrNull(v: unknown): bigint | null {
  // JSON numbers above 2^53 have already lost precision: report them as unknown rather than wrong.
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : null;
}

function str(v: unknown): string {
  return typeof v === "string" ? v.slice(0, 512) : "";
}

function asObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(field, "must be a JSON object");
  return v as Record<string, unknown>;
}

function bad(field: string, what: string): HarmonyError {
  return new HarmonyError({ code: HarmonyErrorCode.BadMetadata, field }, `node metadata: ${field} ${what}`);
}
