import { sinkError } from "./sinkError.js";

export interface PostOptions {
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** A receiver-specific back-off read from a 429 body (seconds), e.g. Discord and Telegram. */
  retryAfterFromBody?: (body: unknown) => number | null;
}

/**
 * POSTs JSON and maps the answer: 2xx delivered; 408/429/5xx and network errors retryable (with the
 * receiver's Retry-After); any other status a permanent refusal. The body of an error is never logged
 * whole (it may echo secrets such as a bot token).
 */
export async function postJson(sink: string, url: string, body: unknown, opts: PostOptions): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...opts.headers },
      body: JSON.stringify(body),
      signal: opts.signal,
      redirect: "error",
    });
  } catch (e) {
    throw sinkError(sink, `${sink}: request failed: ${(e as Error).message}`);
  }
  const text = await res.text().catch(() => "");
  let json: unknown = null;
  try {
    json = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return json;
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  let retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
  if (res.status === 429 && opts.retryAfterFromBody !== undefined) {
    const s = opts.retryAfterFromBody(json);
    if (s !== null) retryAfterMs = s * 1000;
  }
  throw sinkError(sink, `${sink}: HTTP ${res.status}`, { retryable, retryAfterMs, status: res.status });
}

/** Retry-After: delta seconds or an HTTP date. */
export function parseRetryAfter(v: string | null): number | null {
  if (v === null) return null;
  if (/^[0-9]+(\.[0-9]+)?$/.test(v.trim())) return Math.ceil(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}
