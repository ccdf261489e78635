/**
 * URL redaction for errors, logs and identifiers. Operators put secrets in URLs: user info
 * (`https://user:pass@beacon`), query parameters (`?apikey=…`) and path segments (Infura project ids,
 * Slack/Discord webhook tokens, Telegram's `bot<token>`). None of them may reach an error or a log line.
 */

/** A URL without user info (ids and reports: keeps the path and query an operator recognises). */
export function stripUserInfo(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}

const REDACTED = "***";
/** 0x-hex is chain data (public keys, roots): kept, it is what an operator needs to read an error. */
const CHAIN_HEX = /^0x[0-9a-fA-F]*$/;

/**
 * A path segment that looks like a credential: 16 characters or more mixing letters and digits
 * (tokens, project ids, UUIDs), or any segment with a colon or an `=` (`bot123:AA…`, `key=…`).
 */
function secretLike(segment: string): boolean {
  if (CHAIN_HEX.test(segment)) return false;
  if (/[:=]/.test(segment)) return true;
  return segment.length >= 16 && /[0-9]/.test(segment) && /[A-Za-z]/.test(segment);
}

/**
 * A URL safe for errors and logs: no user info, every query value replaced, credential-like path
 * segments replaced. Never throws; a string that is not a URL keeps only its scheme and host part.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)?(?:[^@/]*@)?([^/?#]*)/i.exec(url);
    return m === null
      ? REDACTED
      : `${m[1] ?? ""}${m[2] ?? ""}${url.length > (m[0]?.length ?? 0) ? `/${REDACTED}` : ""}`;
  }
  const path = u.pathname
    .split("/")
    .map((s) => (secretLike(decodeSafe(s)) ? REDACTED : s))
    .join("/");
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${REDACTED}`).join("&");
  return `${u.protocol}//${u.host}${path === "/" ? "" : path}${query.length > 0 ? `?${query}` : ""}`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
