import { AppError } from "./errors.js";

export enum HttpErrorCode {
  /** Connect, response headers, whole body or total deadline passed. */
  Timeout = "ERR_HTTP_TIMEOUT",
  /** The body is longer than the caller's cap (reading stopped at the cap). */
  TooLarge = "ERR_HTTP_TOO_LARGE",
  /** A status the caller does not accept (the JSON helpers: anything but 2xx). */
  Status = "ERR_HTTP_STATUS",
  BadJson = "ERR_HTTP_BAD_JSON",
  /** Refused, reset, DNS, TLS: no complete answer. */
  Connection = "ERR_HTTP_CONNECTION",
  /** The caller's signal aborted the request. */
  Aborted = "ERR_HTTP_ABORTED",
  /** Not an http(s) URL. */
  BadUrl = "ERR_HTTP_BAD_URL",
  /** A JSON-RPC answer with an `error` member, or no `result`. */
  Rpc = "ERR_HTTP_RPC",
}

export type HttpTimeoutPhase = "connect" | "headers" | "body" | "total";

/** Every `url` here is redacted (util/redact.ts): no credential ever sits in an error. */
export type HttpErrorType =
  | { code: HttpErrorCode.Timeout; url: string; phase: HttpTimeoutPhase; timeoutMs: number }
  | { code: HttpErrorCode.TooLarge; url: string; limitBytes: number; readBytes: number }
  | { code: HttpErrorCode.Status; url: string; status: number }
  | { code: HttpErrorCode.BadJson; url: string; status: number }
  | { code: HttpErrorCode.Connection; url: string; cause: string }
  | { code: HttpErrorCode.Aborted; url: string }
  | { code: HttpErrorCode.BadUrl; url: string }
  | { code: HttpErrorCode.Rpc; url: string; method: string; rpcCode: number | null; rpcMessage: string };

export class HttpError extends AppError<HttpErrorType> {}

export function isHttpError(e: unknown, code?: HttpErrorCode): e is HttpError {
  return e instanceof HttpError && (code === undefined || e.type.code === code);
}

/** The HTTP status of an ERR_HTTP_STATUS error, else null. */
export function httpStatusOfError(e: unknown): number | null {
  return e instanceof HttpError && e.type.code === HttpErrorCode.Status ? e.type.status : null;
}

function describeHttpError(t: HttpErrorType): string {
  switch (t.code) {
    case HttpErrorCode.Timeout:
      return `${t.url}: no ${t.phase === "total" ? "complete answer" : t.phase === "connect" ? "connection" : `response ${t.phase}`} within ${t.timeoutMs} ms`;
    case HttpErrorCode.TooLarge:
      return `${t.url}: answer larger than ${t.limitBytes} bytes`;
    case HttpErrorCode.Status:
      return `${t.url} answered HTTP ${t.status}`;
    case HttpErrorCode.BadJson:
      return `${t.url} answered invalid JSON (HTTP ${t.status})`;
    case HttpErrorCode.Connection:
      return `cannot reach ${t.url} (${t.cause})`;
    case HttpErrorCode.Aborted:
      return `${t.url}: request aborted`;
    case HttpErrorCode.BadUrl:
      return `${t.url} is not an http(s) URL`;
    case HttpErrorCode.Rpc:
      return `${t.url} ${t.method}: JSON-RPC error${t.rpcCode === null ? "" : ` ${t.rpcCode}`}: ${t.rpcMessage}`;
  }
}

export function httpError(t: HttpErrorType): HttpError {
  return new HttpError(t, describeHttpError(t));
}
