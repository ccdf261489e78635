import { hostname } from "node:os";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { defaultHostAllowlist, isLoopbackHost, resolveHttpServer } from "../../../src/cli/httpServer.js";
import { buildHttpApp } from "../../../src/http/app.js";
import { allowListEntry, DEFAULT_HTTP_LIMITS, hostName } from "../../../src/http/hardening.js";
import { httpStatusOf } from "../../../src/http/statusCodes.js";
import { nullLogger } from "../../../src/util/logger.js";

describe("Host allow-list parsing", () => {
  it("compares host names without port, case-insensitively, IPv6 in brackets", () => {
    expect(hostName("Example.COM:9000")).toBe("example.com");
    expect(hostName("[::1]:9000")).toBe("[::1]");
    expect(hostName("127.0.0.1")).toBe("127.0.0.1");
    expect(allowListEntry("::1")).toBe("[::1]");
    expect(allowListEntry(" Signer.Internal ")).toBe("signer.internal");
    expect(allowListEntry("*")).toBe("*");
  });

  it("the default follows the bind address", () => {
    expect(defaultHostAllowlist("127.0.0.1", false)).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(defaultHostAllowlist("::1", true)).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(defaultHostAllowlist("10.0.0.5", true)).toEqual(["*"]);
    const plain = defaultHostAllowlist("10.0.0.5", false);
    expect(plain).toEqual(expect.arrayContaining(["10.0.0.5", hostname(), "localhost", "127.0.0.1", "[::1]"]));
    expect(plain).not.toContain("*");
    expect(defaultHostAllowlist("0.0.0.0", false)).toContain("127.0.0.1");
    expect(["localhost", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"].every(isLoopbackHost)).toBe(true);
    expect(["0.0.0.0", "10.0.0.1", "::", "example.com"].some(isLoopbackHost)).toBe(false);
  });
});

describe("resolveHttpServer", () => {
  const resolve = (flags: Parameters<typeof resolveHttpServer>[0], http = {}, tls = false) =>
    resolveHttpServer(flags, http, tls, "cfg.yaml", nullLogger);

  it("refuses a non-loopback bind without TLS unless insecure HTTP is allowed", () => {
    expect(() => resolve({ host: "0.0.0.0" })).toThrow(expect.objectContaining({ code: "ERR_CONFIG_INVALID" }));
    expect(() => resolve({}, { host: "10.0.0.5" })).toThrow(expect.objectContaining({ code: "ERR_CONFIG_INVALID" }));
    expect(resolve({ host: "0.0.0.0", allowInsecureHttp: true }).host).toBe("0.0.0.0");
    expect(resolve({}, { host: "0.0.0.0", allow_insecure_http: true }).host).toBe("0.0.0.0");
    expect(resolve({ host: "0.0.0.0" }, {}, true).hostAllowlist).toEqual(["*"]);
  });

  it("flags win over the config, which wins over the defaults", () => {
    const r = resolve(
      { httpHostAllowlist: "a.example, b.example", httpRequestTimeout: 5000 },
      { host_allowlist: ["c.example"], request_timeout: 7000, keep_alive_timeout: 9000, max_connections: 20 },
    );
    expect(r.hostAllowlist).toEqual(["a.example", "b.example"]);
    expect(r.limits.requestTimeoutMs).toBe(5000);
    expect(r.limits.keepAliveTimeoutMs).toBe(9000);
    expect(r.limits.maxConnections).toBe(20);
    expect(resolve({}).limits.connectionTimeoutMs).toBe(DEFAULT_HTTP_LIMITS.connectionTimeoutMs);
    expect(resolve({}, { host_allowlist: "x.example,y.example" }).hostAllowlist).toEqual(["x.example", "y.example"]);
    expect(() => resolve({ httpHostAllowlist: " , " })).toThrow(
      expect.objectContaining({ code: "ERR_CONFIG_INVALID" }),
    );
  });
});

describe("enforceHostAllowList through the app", () => {
  it("403 ERR_HOST_NOT_ALLOWED for a host not listed; a listed host passes", async () => {
    const app = await buildHttpApp(
      { hostAllowlist: ["localhost", "127.0.0.1"] },
      {
        logger: nullLogger,
        registry: new Registry(),
        health: async () => ({ ok: true, checks: {} }),
        statusOf: httpStatusOf,
      },
    );
    try {
      const bad = await app.inject({ url: "/upcheck", headers: { host: "evil.example:9000" } });
      expect(bad.statusCode).toBe(403);
      expect(bad.json().code).toBe("ERR_HOST_NOT_ALLOWED");
      expect((await app.inject({ url: "/upcheck", headers: { host: "LOCALHOST:9000" } })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
