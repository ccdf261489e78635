import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "../http/index.js";
import type { Logger } from "../util/logger.js";
import { ConfigError, ConfigErrorCode, pick, validateSection } from "./config.js";
import { parseDuration } from "./options.js";

/** Hardening flags of the HTTP server of `signer` and `up` (config: the `http:` section). */
export interface HttpHardeningFlags {
  httpHostAllowlist?: string;
  httpRequestTimeout?: number;
  httpConnectionTimeout?: number;
  httpKeepAliveTimeout?: number;
  httpMaxRequestsPerSocket?: number;
  httpMaxConnections?: number;
  allowInsecureHttp?: boolean;
}

const duration = z.union([z.number().int().nonnegative(), z.string().transform((v) => parseDuration(v))]);

export const HttpConfig = z.object({
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  tls: z
    .object({ cert: z.string().optional(), key: z.string().optional(), allowed_clients: z.string().optional() })
    .strict()
    .optional(),
  host_allowlist: z.union([z.string(), z.array(z.string())]).optional(),
  request_timeout: duration.optional(),
  connection_timeout: duration.optional(),
  keep_alive_timeout: duration.optional(),
  max_requests_per_socket: z.number().int().nonnegative().optional(),
  max_connections: z.number().int().positive().optional(),
  allow_insecure_http: z.boolean().optional(),
});
export type HttpConfig = z.infer<typeof HttpConfig>;

function nonNegativeInt(v: string): number {
  if (!/^[0-9]{1,9}$/.test(v)) throw new Error("must be a whole number");
  return Number(v);
}

export function addHttpHardeningOptions(cmd: Command): void {
  cmd
    .option(
      "--http-host-allowlist <hosts>",
      "Host headers admitted, comma-separated (`*`: any); default follows --host (loopback: localhost,127.0.0.1,[::1])",
    )
    .option(
      "--http-request-timeout <duration>",
      "time to receive a whole request (default 30s; 0: none)",
      parseDuration,
    )
    .option("--http-connection-timeout <duration>", "close a socket idle this long (default 120s)", parseDuration)
    .option("--http-keep-alive-timeout <duration>", "close an idle keep-alive connection (default 72s)", parseDuration)
    .option("--http-max-requests-per-socket <n>", "requests per keep-alive connection (default 10000)", nonNegativeInt)
    .option(
      "--http-max-connections <n>",
      "open connections at most (default 2048, kept below the open-file limit)",
      nonNegativeInt,
    )
    .option("--allow-insecure-http", "allow listening on a non-loopback address without TLS");
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

const isWildcard = (host: string): boolean => ["0.0.0.0", "::", "[::]", ""].includes(host);

/**
 * The Host allow-list when none is configured. Loopback bind: the loopback names. With TLS: any host
 * (a page on a rebinding domain cannot pass the certificate check). A non-loopback bind without TLS:
 * the bound address (every interface address for a wildcard), this machine's name and the loopback names.
 */
export function defaultHostAllowlist(host: string, tls: boolean): string[] {
  if (isLoopbackHost(host)) return LOOPBACK_NAMES;
  if (tls) return ["*"];
  const addresses = isWildcard(host)
    ? Object.values(networkInterfaces())
        .flat()
        .map((i) => i?.address)
        .filter((a): a is string => a !== undefined)
    : [host];
  return [...new Set([...addresses, hostname(), ...LOOPBACK_NAMES])];
}

/** The soft open-file limit of this process (Linux /proc), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** The connection cap leaves this many descriptors for the store, key files and outgoing calls. */
export function fdHeadroom(limit: number): number {
  return Math.max(64, Math.floor(limit / 4));
}

/** The default connection cap: DEFAULT_HTTP_LIMITS' value, lowered to leave headroom below the open-file limit. */
export function defaultMaxConnections(): number {
  const fdLimit = openFileLimit();
  const fdCap = fdLimit === null ? Number.POSITIVE_INFINITY : Math.max(16, fdLimit - fdHeadroom(fdLimit));
  return Math.min(DEFAULT_HTTP_LIMITS.maxConnections, fdCap);
}

export interface ResolvedHttpServer {
  host: string;
  port: number;
  hostAllowlist: string[];
  limits: HttpLimits;
}

/**
 * Resolves the HTTP server's settings (flags win over the `http:` config section). Refuses a
 * non-loopback bind without TLS unless insecure HTTP is allowed explicitly.
 */
export function resolveHttpServer(
  flags: HttpHardeningFlags & { host?: string; port?: number },
  http: HttpConfig,
  tls: boolean,
  configFile: string,
  logger: Logger,
): ResolvedHttpServer {
  const host = pick(flags.host, http.host, "127.0.0.1");
  const port = pick(flags.port, http.port, 9000);
  if (!tls && !isLoopbackHost(host) && !pick(flags.allowInsecureHttp, http.allow_insecure_http, false)) {
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file: configFile },
      `refusing to serve the signing API on ${host} without TLS: give --tls-cert and --tls-key, ` +
        "bind a loopback address, or pass --allow-insecure-http (behind a TLS proxy on a trusted network)",
    );
  }
  const listed = flags.httpHostAllowlist ?? http.host_allowlist;
  const hostAllowlist =
    listed === undefined
      ? defaultHostAllowlist(host, tls)
      : (Array.isArray(listed) ? listed : listed.split(",")).map((h) => h.trim()).filter((h) => h.length > 0);
  if (hostAllowlist.length === 0) {
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file: configFile, path: "http.host_allowlist" },
      "the host allow-list is empty (use * to admit any host)",
    );
  }
  const fdLimit = openFileLimit();
  const fdCap = fdLimit === null ? Number.POSITIVE_INFINITY : Math.max(16, fdLimit - fdHeadroom(fdLimit));
  let maxConnections = pick(
    flags.httpMaxConnections,
    http.max_connections,
    Math.min(DEFAULT_HTTP_LIMITS.maxConnections, fdCap),
  );
  if (maxConnections === 0) maxConnections = fdCap; // 0: as many as the descriptors allow
  if (maxConnections > fdCap) {
    logger.warn("HTTP connection cap lowered below the open-file limit", {
      asked: maxConnections,
      fdLimit,
      cap: fdCap,
    });
    maxConnections = fdCap;
  }
  return {
    host,
    port,
    hostAllowlist,
    limits: {
      requestTimeoutMs: pick(flags.httpRequestTimeout, http.request_timeout, DEFAULT_HTTP_LIMITS.requestTimeoutMs),
      connectionTimeoutMs: pick(
        flags.httpConnectionTimeout,
        http.connection_timeout,
        DEFAULT_HTTP_LIMITS.connectionTimeoutMs,
      ),
      keepAliveTimeoutMs: pick(
        flags.httpKeepAliveTimeout,
        http.keep_alive_timeout,
        DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs,
      ),
      maxRequestsPerSocket: pick(
        flags.httpMaxRequestsPerSocket,
        http.max_requests_per_socket,
        DEFAULT_HTTP_LIMITS.maxRequestsPerSocket,
      ),
      maxConnections,
    },
  };
}

export function readHttpConfig(config: Record<string, unknown>, configFile: string): HttpConfig {
  return validateSection(HttpConfig, config.http, configFile, "http");
}

/** The address the server really listens on (`http://0.0.0.0:9000` for a wildcard bind, not a loopback one). */
export function boundAddress(address: AddressInfo | string | null, tls: boolean): string {
  const scheme = tls ? "https" : "http";
  if (address === null || typeof address === "string") return `${scheme}://${address ?? "?"}`;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}
