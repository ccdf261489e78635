import { CometRpcError, CometRpcErrorCode, invalid } from "./rpcErrors.js";
import { BlockIdFlag, type CommitInfo, type CommitSig, type NetInfo, type NodeStatus } from "./rpcTypes.js";

const INT64_MAX = (1n << 63n) - 1n;
const DECIMAL_RE = /^(0|[1-9][0-9]{0,18})$/;
const ADDRESS_RE = /^[0-9A-Fa-f]{40}$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid(field, "must be an object");
  return v as Obj;
}

function str(v: unknown, field: string): string {
  if (typeof v !== "string") throw invalid(field, "must be a string");
  return v;
}

/** int64 fields are JSON strings in CometBFT's encoding; a negative or oversized value is refused. */
function int64(v: unknown, field: string): bigint {
  if (typeof v !== "string" || !DECIMAL_RE.test(v)) throw invalid(field, "must be a decimal string");
  const n = BigInt(v);
  if (n > INT64_MAX) throw invalid(field, "exceeds int64");
  return n;
}

/** int32 fields (round, block_id_flag) are JSON numbers; some proxies send them as strings. */
function int32(v: unknown, field: string): number {
  const n = typeof v === "string" && /^-?[0-9]{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw invalid(field, "must be a 32-bit integer");
  }
  return n;
}

/** Upper-case hex form of a validator address (20 bytes), the form CometBFT prints. */
export function normalizeAddress(v: unknown, field = "validator_address"): string {
  if (typeof v !== "string" || !ADDRESS_RE.test(v)) throw invalid(field, "must be 20 bytes of hex");
  return v.toUpperCase();
}

/** The `result` of a JSON-RPC answer; a JSON-RPC `error` becomes ERR_COMETBFT_RPC_ERROR. */
export function unwrapJsonRpc(body: unknown): unknown {
  const o = obj(body, "response");
  if (o.error !== undefined && o.error !== null) {
    const e = obj(o.error, "error");
    const rpcCode = typeof e.code === "number" ? e.code : 0;
    const detail = [e.message, e.data].filter((x) => typeof x === "string").join(": ");
    throw new CometRpcError(
      { code: CometRpcErrorCode.NodeError, rpcCode, detail: detail.slice(0, 300) },
      `CometBFT RPC error ${rpcCode}: ${detail.slice(0, 300)}`,
    );
  }
  if (!("result" in o)) throw invalid("result", "is missing");
  return o.result;
}

export function parseStatus(body: unknown): NodeStatus {
  const r = obj(unwrapJsonRpc(body), "result");
  const nodeInfo = obj(r.node_info, "result.node_info");
  const sync = obj(r.sync_info, "result.sync_info");
  const val = obj(r.validator_info, "result.validator_info");
  if (typeof sync.catching_up !== "boolean") throw invalid("result.sync_info.catching_up", "must be a boolean");
  return {
    network: str(nodeInfo.network, "result.node_info.network"),
    latestHeight: int64(sync.latest_block_height, "result.sync_info.latest_block_height"),
    catchingUp: sync.catching_up,
    validatorAddress: normalizeAddress(val.address, "result.validator_info.address"),
    votingPower: int64(val.voting_power, "result.validator_info.voting_power"),
  };
}

export function parseNetInfo(body: unknown): NetInfo {
  const r = obj(unwrapJsonRpc(body), "result");
  // n_peers is an int encoded as a string by cmtjson; accept a number as well.
  const raw = r.n_peers;
  const n = typeof raw === "number" ? raw : Number(int64(raw, "result.n_peers"));
  if (!Number.isSafeInteger(n) || n < 0) throw invalid("result.n_peers", "must be a non-negative integer");
  return { nPeers: n };
}

function parseCommitBody(c: Obj, field: string, canonical: boolean): CommitInfo {
  const sigs = c.signatures;
  if (!Array.isArray(sigs)) throw invalid(`${field}.signatures`, "must be an array");
  const signatures: CommitSig[] = sigs.map((s, i) => {
    const f = `${field}.signatures[${i}]`;
    const o = obj(s, f);
    const flag = int32(o.block_id_flag, `${f}.block_id_flag`);
    if (flag !== BlockIdFlag.Absent && flag !== BlockIdFlag.Commit && flag !== BlockIdFlag.Nil) {
      throw invalid(`${f}.block_id_flag`, "must be 1, 2 or 3");
    }
    if (flag === BlockIdFlag.Absent) return { flag, validatorAddress: "", signature: null };
    const signature = o.signature;
    if (typeof signature !== "string" || signature.length === 0 || !BASE64_RE.test(signature)) {
      throw invalid(`${f}.signature`, "must be base64 for a present vote");
    }
    return { flag, validatorAddress: normalizeAddress(o.validator_address, `${f}.validator_address`), signature };
  });
  return {
    height: int64(c.height, `${field}.height`),
    round: int32(c.round, `${field}.round`),
    canonical,
    signatures,
  };
}

/** `/commit?height=h`: the precommits that committed height h. */
export function parseCommit(body: unknown): CommitInfo {
  const r = obj(unwrapJsonRpc(body), "result");
  const sh = obj(r.signed_header, "result.signed_header");
  if (typeof r.canonical !== "boolean") throw invalid("result.canonical", "must be a boolean");
  const header = obj(sh.header, "result.signed_header.header");
  const commit = parseCommitBody(
    obj(sh.commit, "result.signed_header.commit"),
    "result.signed_header.commit",
    r.canonical,
  );
  const headerHeight = int64(header.height, "result.signed_header.header.height");
  if (headerHeight !== commit.height) throw invalid("result.signed_header.commit.height", "differs from the header");
  return commit;
}

/** `/block?height=h`: its last_commit holds the precommits of height h-1 (canonical once h exists). */
export function parseBlockLastCommit(body: unknown): CommitInfo {
  const r = obj(unwrapJsonRpc(body), "result");
  const block = obj(r.block, "result.block");
  const header = obj(block.header, "result.block.header");
  const height = int64(header.height, "result.block.header.height");
  const lc = parseCommitBody(obj(block.last_commit, "result.block.last_commit"), "result.block.last_commit", true);
  if (height > 1n && lc.height !== height - 1n) throw invalid("result.block.last_commit.height", "is not height - 1");
  return lc;
}

/** Whether a commit holds a precommit (for the block or nil) signed by `address` (upper-case hex). */
export function signedBy(commit: CommitInfo, address: string): boolean {
  return commit.signatures.some((s) => s.flag !== BlockIdFlag.Absent && s.validatorAddress === address);
}
