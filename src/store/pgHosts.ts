import { StoreError, StoreErrorCode } from "./errors.js";

/** One server of a multi-host URL. */
export interface PgHost {
  host: string;
  port: number;
}

export interface PgHostList {
  hosts: PgHost[];
  /** The URL with only the first host and without target_session_attrs (what node-postgres parses). */
  singleHostUrl: (h: PgHost) => string;
}

const DEFAULT_PORT = 5432;
/** target_session_attrs values that mean "the server that accepts writes"; the store only ever writes there. */
const WRITABLE_ATTRS = new Set(["read-write", "primary"]);

/**
 * Parses libpq's multi-host URL form, `postgres://user@h1:5432,h2:5433/db?target_session_attrs=read-write`.
 * node-postgres (8.x) takes one host only (brianc/node-postgres#1470 is open), so the store picks the
 * host itself: this splits the list, and the store probes the hosts in order like libpq does.
 * A URL with one host is returned unchanged (node-postgres parses it as before).
 */
export function parsePgHosts(url: string): PgHostList {
  const m = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/.exec(url);
  if (m === null) throw badUrl(url, "not a postgres:// URL");
  const [, scheme, userinfo, hostPart, rest] = m as unknown as [string, string, string | undefined, string, string];
  const user = userinfo === undefined ? "" : `${userinfo}@`;
  const [path, query] = splitQuery(rest);
  const params = new URLSearchParams(query);
  const attrs = params.get("target_session_attrs");
  if (!hostPart.includes(",")) {
    if (attrs !== null && attrs !== "any" && !WRITABLE_ATTRS.has(attrs))
      throw badUrl(url, "target_session_attrs must be read-write (the store writes)");
    return { hosts: [], singleHostUrl: () => url };
  }
  if (attrs !== null && !WRITABLE_ATTRS.has(attrs))
    throw badUrl(url, "a multi-host URL needs target_session_attrs=read-write (the store writes to the primary)");
  params.delete("target_session_attrs");
  const q = params.toString();
  const hosts = hostPart.split(",").map((h) => parseHost(h, url));
  return {
    hosts,
    singleHostUrl: (h) =>
      `${scheme}${user}${h.host.includes(":") ? `[${h.host}]` : h.host}:${h.port}${path}${q ? `?${q}` : ""}`,
  };
}

function splitQuery(rest: string): [string, string] {
  const noFragment = rest.split("#")[0] ?? "";
  const i = noFragment.indexOf("?");
  return i < 0 ? [noFragment, ""] : [noFragment.slice(0, i), noFragment.slice(i + 1)];
}

function parseHost(h: string, url: string): PgHost {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::([0-9]{1,5}))?$/.exec(h);
  if (m === null) throw badUrl(url, `bad host ${h}`);
  const port = m[3] === undefined ? DEFAULT_PORT : Number(m[3]);
  if (port < 1 || port > 65535) throw badUrl(url, `bad port in ${h}`);
  return { host: m[1] ?? m[2] ?? "", port };
}

function badUrl(url: string, why: string): StoreError {
  const safe = url.replace(/:\/\/([^:@/]+):[^@/]*@/, "://$1:***@");
  return new StoreError({ code: StoreErrorCode.BadUrl, url: safe }, `bad PostgreSQL URL ${safe}: ${why}`);
}
