import http from "node:http";
import https from "node:https";
import { TLSSocket } from "node:tls";
import { HttpError, HttpErrorCode, type HttpErrorType, httpError } from "./httpErrors.js";
import { redactUrl } from "./redact.js";

/*
 * The one HTTP client of slashguard (agent, beacon client, alert sinks, alert relay, failover).
 *
 * Built on node:http/https rather than undici (or fetch, which is undici): it adds no runtime
 * dependency to a security tool, and every limit we need is a few lines over its events. undici's own
 * limits do not fit as they are: `bodyTimeout` is an idle timeout between chunks (a peer trickling a
 * byte every few seconds never trips it), the connect timeout is per dispatcher, and fetch buffers
 * `text()` before any cap can look at it. Here the cap is counted chunk by chunk and the socket is
 * destroyed the moment it is passed; nothing past the cap is ever kept.
 */

export interface HttpLimits {
  /** TCP (and TLS) connection established; a reused keep-alive connection skips it. */
  connectTimeoutMs: number;
  /** From sending the request until the response headers arrived (includes connecting). */
  headersTimeoutMs: number;
  /** From the headers until the last body byte: the whole body, not an idle gap between chunks. */
  bodyTimeoutMs: number;
  /** Optional deadline for the whole exchange, on top of the phases. */
  totalTimeoutMs?: number;
  /** Largest body read; a longer one is ERR_HTTP_TOO_LARGE and the connection is closed. */
  maxBodyBytes: number;
}

export interface HttpRequest {
  url: string;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  headers?: Record<string, string>;
  /** A body sent as it is. */
  body?: string | Uint8Array;
  /** A value sent as JSON (sets content-type). */
  json?: unknown;
  limits?: Partial<HttpLimits>;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or null for an empty body. */
  body: unknown;
}

/** Limits from one timeout, as the callers' options give it (each phase may take it once). */
export function limitsFor(timeoutMs: number, maxBodyBytes: number): HttpLimits {
  return { connectTimeoutMs: timeoutMs, headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs, maxBodyBytes };
}

// Keep-alive, with free sockets closed after 4 s (below the 5 s idle timeout of node servers; the
// agent also honours a server's Keep-Alive: timeout hint). Free sockets do not hold the process open.
const AGENTS = {
  "http:": new http.Agent({ keepAlive: true, timeout: 4000, maxSockets: 64 }),
  "https:": new https.Agent({ keepAlive: true, timeout: 4000, maxSockets: 64 }),
};

/**
 * Requests with per-phase timeouts and a streamed body cap; every failure is a typed `HttpError`
 * whose URL is redacted. Redirects are never followed (a 3xx is returned as it is). User info in a
 * URL becomes Basic authentication. Request headers never appear in an error.
 */
export class HttpClient {
  constructor(private readonly defaults: HttpLimits) {}

  /** Any status is an answer; connection failures, timeouts and the cap are errors. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw httpError({ code: HttpErrorCode.BadUrl, url: redactUrl(req.url) });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw httpError({ code: HttpErrorCode.BadUrl, url: redactUrl(req.url) });
    const limits = { ...this.defaults, ...req.limits };
    const headers: Record<string, string> = { "user-agent": "slashguard", ...req.headers };
    let body: Buffer | null = null;
    if (req.json !== undefined) {
      body = Buffer.from(JSON.stringify(req.json), "utf8");
      headers["content-type"] ??= "application/json";
    } else if (req.body !== undefined) {
      body = typeof req.body === "string" ? Buffer.from(req.body, "utf8") : Buffer.from(req.body);
    }
    if (body !== null) headers["content-length"] = String(body.length);
    const exchange = { url, method: req.method ?? (body === null ? "GET" : "POST"), headers, body, limits };
    try {
      return await attempt(exchange, req.signal);
    } catch (e) {
      // A keep-alive connection the server closed just as we reused it: once more on a fresh one
      // (node's documented race; the request never reached the server's handler).
      if (e instanceof StaleSocket) return attempt(exchange, req.signal, true);
      throw e;
    }
  }

  /** JSON answer of any status (null for an empty body); invalid JSON is ERR_HTTP_BAD_JSON. */
  async json(req: HttpRequest): Promise<JsonResponse> {
    const res = await this.request({ ...req, headers: { accept: "application/json", ...req.headers } });
    return { status: res.status, headers: res.headers, body: parseJsonBody(res, req.url) };
  }

  /** GET a 2xx JSON answer; any other status is ERR_HTTP_STATUS. */
  async getJson(url: string, opts: Omit<HttpRequest, "url" | "method" | "body" | "json"> = {}): Promise<unknown> {
    return this.okJson({ ...opts, url, method: "GET" });
  }

  /** POST `body` as JSON and return the 2xx JSON answer; any other status is ERR_HTTP_STATUS. */
  async postJson(
    url: string,
    body: unknown,
    opts: Omit<HttpRequest, "url" | "method" | "body" | "json"> = {},
  ): Promise<unknown> {
    return this.okJson({ ...opts, url, method: "POST", json: body });
  }

  private async okJson(req: HttpRequest): Promise<unknown> {
    const res = await this.request({ ...req, headers: { accept: "application/json", ...req.headers } });
    // the status decides first: an error page is not "bad JSON"
    if (res.status < 200 || res.status >= 300)
      throw httpError({ code: HttpErrorCode.Status, url: redactUrl(req.url), status: res.status });
    return parseJsonBody(res, req.url);
  }

  /** A JSON-RPC 2.0 call: the `result`, or ERR_HTTP_RPC for an `error` member or no result. */
  async jsonRpc(
    url: string,
    method: string,
    params: unknown[],
    opts: Omit<HttpRequest, "url" | "method" | "body" | "json"> = {},
  ): Promise<unknown> {
    const res = await this.request({
      ...opts,
      url,
      method: "POST",
      json: { jsonrpc: "2.0", id: 1, method, params },
      headers: { accept: "application/json", ...opts.headers },
    });
    const status = (): HttpError => httpError({ code: HttpErrorCode.Status, url: redactUrl(url), status: res.status });
    const failed = res.status < 200 || res.status >= 300;
    let o: { result?: unknown; error?: { code?: unknown; message?: unknown } | null } | null;
    try {
      o = parseJsonBody(res, url) as typeof o;
    } catch (e) {
      throw failed ? status() : e;
    }
    // JSON-RPC servers answer errors with 4xx/5xx and a JSON body; any other failed answer is a status error.
    if (o === null || typeof o !== "object" || Array.isArray(o) || (!("result" in o) && !("error" in o))) {
      if (failed) throw status();
      throw rpcError(url, method, null, "not a JSON-RPC answer");
    }
    if (o.error !== undefined && o.error !== null) {
      const code = typeof o.error.code === "number" && Number.isSafeInteger(o.error.code) ? o.error.code : null;
      throw rpcError(url, method, code, typeof o.error.message === "string" ? o.error.message : "error");
    }
    if (!("result" in o)) throw rpcError(url, method, null, "no result");
    return o.result;
  }
}

function rpcError(url: string, method: string, code: number | null, message: string): HttpError {
  return httpError({
    code: HttpErrorCode.Rpc,
    url: redactUrl(url),
    method: method.slice(0, 100),
    rpcCode: code,
    rpcMessage: message.slice(0, 200),
  });
}

/** Parses a response body as JSON (null when empty). */
export function parseJsonBody(res: HttpResponse, url: string): unknown {
  if (res.body.length === 0) return null;
  try {
    return JSON.parse(res.body.toString("utf8")) as unknown;
  } catch {
    throw httpError({ code: HttpErrorCode.BadJson, url: redactUrl(url), status: res.status });
  }
}

/** A reused keep-alive socket failed before any answer (internal: retried once). */
class StaleSocket extends Error {}

interface Exchange {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
  limits: HttpLimits;
}

function attempt(x: Exchange, signal: AbortSignal | undefined, fresh = false): Promise<HttpResponse> {
  const safeUrl = redactUrl(x.url.href);
  return new Promise<HttpResponse>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    let answered = false;
    const done = (err: Error | null, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
      if (err !== null) {
        req.destroy();
        reject(err);
      } else resolve(res!);
    };
    const fail = (t: HttpErrorType): void => done(httpError(t));
    const timer = (ms: number, phase: "connect" | "headers" | "body" | "total"): NodeJS.Timeout => {
      const t = setTimeout(() => fail({ code: HttpErrorCode.Timeout, url: safeUrl, phase, timeoutMs: ms }), ms);
      timers.push(t);
      return t;
    };
    const onAbort = (): void => fail({ code: HttpErrorCode.Aborted, url: safeUrl });
    if (signal?.aborted) {
      reject(httpError({ code: HttpErrorCode.Aborted, url: safeUrl }));
      return;
    }
    const mod = x.url.protocol === "https:" ? https : http;
    const req = mod.request({
      protocol: x.url.protocol,
      hostname: x.url.hostname.replace(/^\[|\]$/g, ""),
      port: x.url.port === "" ? undefined : Number(x.url.port),
      path: `${x.url.pathname}${x.url.search}`,
      method: x.method,
      headers: x.headers,
      // Basic auth from the URL's user info; the URL itself never travels with it into an error.
      ...(x.url.username === "" && x.url.password === ""
        ? {}
        : { auth: `${decodeURIComponent(x.url.username)}:${decodeURIComponent(x.url.password)}` }),
      // A retry after a stale keep-alive socket takes a fresh connection.
      agent: fresh ? false : AGENTS[x.url.protocol as "http:" | "https:"],
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    if (x.limits.totalTimeoutMs !== undefined) timer(x.limits.totalTimeoutMs, "total");
    const headersTimer = timer(x.limits.headersTimeoutMs, "headers");
    req.on("socket", (socket) => {
      if (!socket.connecting) return;
      const t = timer(x.limits.connectTimeoutMs, "connect");
      socket.once(socket instanceof TLSSocket ? "secureConnect" : "connect", () => clearTimeout(t));
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (settled) return;
      if (!answered && !fresh && req.reusedSocket && e.code === "ECONNRESET") {
        settled = true;
        for (const t of timers) clearTimeout(t);
        signal?.removeEventListener("abort", onAbort);
        reject(new StaleSocket());
        return;
      }
      fail({ code: HttpErrorCode.Connection, url: safeUrl, cause: causeOf(e) });
    });
    req.on("response", (res) => {
      answered = true;
      clearTimeout(headersTimer);
      const limit = x.limits.maxBodyBytes;
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > limit) {
        fail({ code: HttpErrorCode.TooLarge, url: safeUrl, limitBytes: limit, readBytes: 0 });
        return;
      }
      timer(x.limits.bodyTimeoutMs, "body");
      const chunks: Buffer[] = [];
      let read = 0;
      res.on("data", (c: Buffer) => {
        if (settled) return;
        read += c.length;
        // The chunk that passes the cap is dropped, not kept: at most `limit` bytes are ever held.
        if (read > limit) {
          fail({ code: HttpErrorCode.TooLarge, url: safeUrl, limitBytes: limit, readBytes: read });
          return;
        }
        chunks.push(c);
      });
      res.on("end", () =>
        done(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", (e: NodeJS.ErrnoException) =>
        fail({ code: HttpErrorCode.Connection, url: safeUrl, cause: causeOf(e) }),
      );
      res.on("close", () => {
        if (!res.complete) fail({ code: HttpErrorCode.Connection, url: safeUrl, cause: "answer cut short" });
      });
    });
    req.end(x.body ?? undefined);
  });
}

/** The errno-style code of a socket error (never its message: it may carry a host name with user info). */
function causeOf(e: NodeJS.ErrnoException): string {
  return typeof e.code === "string" && /^[A-Z0-9_]{2,40}$/.test(e.code) ? e.code : "connection failed";
}

export { HttpError, HttpErrorCode };
