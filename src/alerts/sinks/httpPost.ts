import { HttpClient, type HttpResponse, parseJsonBody } from "../../util/httpClient.js";
import { parseRetryAfterMs } from "../../util/retryAfter.js";
import { sinkError } from "./sinkError.js";

export interface PostOptions {
  headers?: Record<string, string>;
  /** The dispatcher's deadline for one delivery. */
  signal: AbortSignal;
  /** A receiver-specific back-off read from a 429 body (seconds), e.g. Discord and Telegram. */
  retryAfterFromBody?: (body: unknown) => number | null;
}

/** Receivers answer a few hundred bytes; a larger answer is read no further than this. */
const MAX_ANSWER_BYTES = 256 * 1024;

const http = new HttpClient({
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 10_000,
  maxBodyBytes: MAX_ANSWER_BYTES,
});

/**
 * POSTs JSON and maps the answer: 2xx delivered; 408/429/5xx and network errors retryable (with the
 * receiver's Retry-After); any other status a permanent refusal. Redirects are not followed. The body
 * of an error is never logged (it may echo secrets such as a bot token), and the URL in an error is
 * redacted (webhook URLs carry their token in the path).
 */
export async function postJson(sink: string, url: string, body: unknown, opts: PostOptions): Promise<unknown> {
  let res: HttpResponse;
  try {
    res = await http.request({
      url,
      method: "POST",
      json: body,
      headers: { accept: "application/json", ...opts.headers },
      signal: opts.signal,
    });
  } catch (e) {
    throw sinkError(sink, `${sink}: request failed: ${(e as Error).message}`);
  }
  let json: unknown = null;
  try {
    json = parseJsonBody(res, url);
  } catch {
    json = null;
  }
  if (res.status >= 200 && res.status < 300) return json;
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  const header = res.headers["retry-after"];
  let retryAfterMs = parseRetryAfterMs(typeof header === "string" ? header : null);
  if (res.status === 429 && opts.retryAfterFromBody !== undefined) {
    const s = opts.retryAfterFromBody(json);
    if (s !== null) retryAfterMs = s * 1000;
  }
  throw sinkError(sink, `${sink}: HTTP ${res.status}`, { retryable, retryAfterMs, status: res.status });
}
