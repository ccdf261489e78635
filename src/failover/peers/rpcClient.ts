import type { CommitInfo, NetInfo, NodeStatus } from "../../chains/cometbft/index.js";
import {
  invalid,
  parseBlockLastCommit,
  parseCommit,
  parseNetInfo,
  parseStatus,
  unwrapJsonRpc,
} from "../../chains/cometbft/index.js";
import { errorMessage } from "../../util/errors.js";
import { HttpClient, type HttpResponse, limitsFor } from "../../util/httpClient.js";
import { HttpErrorCode, isHttpError } from "../../util/httpErrors.js";
import { redactUrl } from "../../util/redact.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";

/** What the failover asks a CometBFT node (its RPC) and its execution client (EVM JSON-RPC). */
export interface ChainRpc {
  status(): Promise<NodeStatus>;
  netInfo(): Promise<NetInfo>;
  /** The precommits of `height` (from /commit?height=h, or /block?height=h+1's last_commit). */
  commit(height: bigint): Promise<CommitInfo>;
}

export interface EvmRpc {
  blockNumber(): Promise<bigint>;
}

/** Largest RPC answer read (a commit of a few hundred validators is well below). */
const MAX_BODY = 8 << 20;
const QUANTITY_RE = /^0x(0|[1-9a-fA-F][0-9a-fA-F]{0,15})$/;

const clients = new Map<number, HttpClient>();

/** One client per timeout (the limits are per client); bodies are streamed with the MAX_BODY cap. */
function clientFor(timeoutMs: number): HttpClient {
  let c = clients.get(timeoutMs);
  if (c === undefined) {
    c = new HttpClient(limitsFor(timeoutMs, MAX_BODY));
    clients.set(timeoutMs, c);
  }
  return c;
}

async function fetchJson(url: string, timeoutMs: number, post?: unknown): Promise<unknown> {
  let res: HttpResponse;
  try {
    res = await clientFor(timeoutMs).request(post === undefined ? { url } : { url, method: "POST", json: post });
  } catch (e) {
    if (isHttpError(e, HttpErrorCode.TooLarge)) throw invalid("response", "is too large");
    throw unavailable(url, errorMessage(e));
  }
  // JSON-RPC errors come with 4xx/5xx and a JSON body; anything else non-2xx is an outage.
  const ok = res.status >= 200 && res.status < 300;
  if (!ok && res.body[0] !== 0x7b /* { */) throw unavailable(url, `HTTP ${res.status}`);
  try {
    return JSON.parse(res.body.toString("utf8"));
  } catch {
    throw invalid("response", "is not JSON");
  }
}

function unavailable(url: string, cause: string): FailoverError {
  const safe = redactUrl(url);
  return new FailoverError({ code: FailoverErrorCode.RpcUnavailable, url: safe, cause }, `RPC ${safe}: ${cause}`);
}

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path}`;
}

export class HttpChainRpc implements ChainRpc {
  constructor(private readonly opts: { url: string; timeoutMs: number; commitSource: "commit" | "block" }) {}

  async status(): Promise<NodeStatus> {
    return parseStatus(await fetchJson(join(this.opts.url, "status"), this.opts.timeoutMs));
  }

  async netInfo(): Promise<NetInfo> {
    return parseNetInfo(await fetchJson(join(this.opts.url, "net_info"), this.opts.timeoutMs));
  }

  async commit(height: bigint): Promise<CommitInfo> {
    if (this.opts.commitSource === "block") {
      const c = parseBlockLastCommit(
        await fetchJson(join(this.opts.url, `block?height=${height + 1n}`), this.opts.timeoutMs),
      );
      if (c.height !== height) throw invalid("result.block.last_commit.height", "is not the height asked for");
      return c;
    }
    const c = parseCommit(await fetchJson(join(this.opts.url, `commit?height=${height}`), this.opts.timeoutMs));
    if (c.height !== height) throw invalid("result.signed_header.commit.height", "is not the height asked for");
    return c;
  }
}

/** eth_blockNumber answers a hex quantity (no leading zeros); anything else is refused. */
function parseEthBlockNumber(body: unknown): bigint {
  const r = unwrapJsonRpc(body);
  if (typeof r !== "string" || !QUANTITY_RE.test(r)) throw invalid("result", "must be a hex quantity");
  return BigInt(r);
}

export class HttpEvmRpc implements EvmRpc {
  constructor(private readonly opts: { url: string; timeoutMs: number }) {}

  async blockNumber(): Promise<bigint> {
    return parseEthBlockNumber(
      await fetchJson(this.opts.url, this.opts.timeoutMs, {
        jsonrpc: "2.0",
        id: 1,
        method: "eth_blockNumber",
        params: [],
      }),
    );
  }
}
