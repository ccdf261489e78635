import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";

/** Connection and request limits of an HTTP server (milliseconds; 0 turns a limit off). */
export interface HttpLimits {
  /** Time to receive a whole request, headers and body (a body trickled a byte at a time ends here). */
  requestTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed. */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Requests served on one keep-alive connection before it is closed (0: no limit). */
  maxRequestsPerSocket: number;
  /** Open connections at most; further ones are closed at once (keeps file descriptors for the rest). */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 120_000,
  keepAliveTimeoutMs: 72_000,
  maxRequestsPerSocket: 10_000,
  maxConnections: 2048,
};

export class HostNotAllowedError extends AppError<{ code: "ERR_HOST_NOT_ALLOWED" }> {}

/** `Host` header value without its port, lower-case (`[::1]:9000` -> `[::1]`, `Example:80` -> `example`). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(":");
  return colon < 0 ? h : h.slice(0, colon);
}

/** Normalises an allow-list entry the way `hostName` normalises a header (a bare IPv6 gets brackets). */
export function allowListEntry(entry: string): string {
  const e = entry.trim().toLowerCase();
  if (e === "*") return e;
  if (!e.startsWith("[") && e.split(":").length > 2) return `[${e}]`;
  return hostName(e);
}

/**
 * DNS rebinding guard: a request whose `Host` is not in the list is refused (403) in onRequest, before
 * its body is read. `*` in the list admits every host. A request without a Host header (HTTP/1.0
 * tools) is admitted: a browser always sends one.
 */
export function enforceHostAllowList(app: FastifyInstance, hosts: readonly string[]): void {
  const allowed = new Set(hosts.map(allowListEntry));
  if (allowed.has("*")) return;
  app.addHook("onRequest", async (req) => {
    const h = req.headers.host;
    if (h === undefined) return;
    if (!allowed.has(hostName(h))) {
      throw new HostNotAllowedError(
        { code: "ERR_HOST_NOT_ALLOWED" },
        "the Host header is not in the allow-list (--http-host-allowlist)",
      );
    }
  });
}

const CLIENT_ERRORS: Record<string, { status: number; code: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: "ERR_HEADERS_TOO_LARGE" },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: "ERR_REQUEST_TIMEOUT" },
};

/**
 * Node's parser errors (headers too large, request timeout, malformed request line) answered in the
 * API's `{code, message}` form; the connection is closed after the answer.
 */
export function clientErrorHandler(logger: Logger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    const e = CLIENT_ERRORS[err.code ?? ""] ?? { status: 400, code: "ERR_BAD_REQUEST" };
    logger.debug("HTTP client error", { code: err.code, status: e.status });
    if (socket.writable) {
      const body = JSON.stringify({ code: e.code, message: STATUS_CODES[e.status] ?? "client error" });
      socket.write(
        `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/** Router errors (a URL that does not decode, a path parameter that is too long) in the `{code, message}` form. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === "FST_ERR_MAX_PARAM_LENGTH") {
    void reply.status(414).send({ code: "ERR_URI_TOO_LONG", message: "a path parameter is too long" });
    return;
  }
  if (err.code === "FST_ERR_BAD_URL") {
    void reply.status(400).send({ code: "ERR_BAD_URL", message: "the URL is not valid (bad percent-encoding)" });
    return;
  }
  void reply.status(400).send({ code: "ERR_BAD_REQUEST", message: "bad request" });
}
