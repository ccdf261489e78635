/** Retry-After (RFC 9110): delta seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfterMs(v: string | null, nowMs: number = Date.now()): number | null {
  if (v === null) return null;
  const t = v.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(t)) return Math.ceil(Number(t) * 1000);
  const at = Date.parse(t);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
