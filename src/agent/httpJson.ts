import { AppError } from "../util/errors.js";

export class NodeRequestError extends AppError<{ code: "ERR_NODE_UNREACHABLE" | "ERR_NODE_ANSWER"; status?: number }> {}

/** Largest node answer read (a misbehaving node cannot make the agent buffer more). */
const MAX_BODY = 4 << 20;

/** GET or POST JSON with a timeout; network errors, non-2xx and bad JSON are typed errors. */
export async function httpJson(
  url: string,
  init: { method?: "GET" | "POST"; body?: unknown; headers?: Record<string, string>; timeoutMs: number },
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? "GET",
      headers: {
        accept: "application/json",
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (e) {
    throw new NodeRequestError(
      { code: "ERR_NODE_UNREACHABLE" },
      `cannot reach ${redact(url)}: ${(e as Error).message}`,
    );
  }
  const text = await res.text();
  if (text.length > MAX_BODY)
    throw new NodeRequestError({ code: "ERR_NODE_ANSWER", status: res.status }, "answer too large");
  if (!res.ok)
    throw new NodeRequestError(
      { code: "ERR_NODE_ANSWER", status: res.status },
      `${redact(url)} answered HTTP ${res.status}`,
    );
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new NodeRequestError({ code: "ERR_NODE_ANSWER", status: res.status }, `${redact(url)} answered invalid JSON`);
  }
}

let rpcId = 0;

/** A JSON-RPC 2.0 call; an `error` member is a typed error. */
export async function jsonRpc(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  const body = await httpJson(url, {
    method: "POST",
    body: { jsonrpc: "2.0", id: ++rpcId, method, params },
    timeoutMs,
  });
  const o = body as { result?: unknown; error?: { message?: unknown } } | null;
  if (o === null || typeof o !== "object")
    throw new NodeRequestError({ code: "ERR_NODE_ANSWER" }, `${method}: not a JSON-RPC answer`);
  if (o.error !== undefined && o.error !== null)
    throw new NodeRequestError(
      { code: "ERR_NODE_ANSWER" },
      `${method}: ${String(o.error.message ?? "error").slice(0, 200)}`,
    );
  return o.result;
}

/** A URL without user info, for logs, source ids and reports. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}
