import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { buildHttpApp } from "../../../../../src/http/app.js";
import {
  DASHBOARD_CSP,
  dashboardRoutes,
  isClientRoute,
  pickEncoding,
} from "../../../../../src/http/routes/dashboard/dashboardRoutes.js";
import { loadStaticBundle, type StaticFile } from "../../../../../src/http/routes/dashboard/staticBundle.js";
import { httpStatusOf } from "../../../../../src/http/statusCodes.js";
import { nullLogger } from "../../../../../src/util/logger.js";
import { rng } from "../../../../utils/fuzz.js";
import { tempDir } from "../../../../utils/stores.js";

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head></html>';
// Large and repetitive: worth compressing, so both encodings are kept.
const APP_JS = `console.log("slashguard");\n${"export const x = 1;\n".repeat(400)}`;

function writeBundle(dir: string): void {
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), INDEX);
  writeFileSync(join(dir, "assets", "app-abc123.js"), APP_JS);
  writeFileSync(join(dir, "assets", "app-abc123.js.map"), "{}");
  writeFileSync(join(dir, "favicon.svg"), "<svg/>");
}

describe("dashboard static files", () => {
  let app: FastifyInstance | null = null;
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    await app?.close();
    app = null;
    for (const c of cleanups.splice(0)) c();
  });

  const start = async (built = true): Promise<FastifyInstance> => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    if (built) writeBundle(t.dir);
    app = await buildHttpApp(
      {},
      {
        logger: nullLogger,
        registry: new Registry(),
        health: async () => ({ ok: true, checks: {} }),
        statusOf: httpStatusOf,
      },
    );
    app.get("/api/v1/thing", async () => ({ ok: true }));
    await app.register(dashboardRoutes, { bundle: loadStaticBundle(t.dir) });
    return app;
  };

  it("serves index.html at / and at every client route, revalidated, with a strict CSP", async () => {
    const a = await start();
    for (const url of [
      "/",
      "/alerts",
      "/fleet",
      "/keys",
      `/keys/0x${"ab".repeat(48)}`,
      "/signer",
      "/alerts?status=open",
    ]) {
      const r = await a.inject({ url });
      expect(r.statusCode, url).toBe(200);
      expect(r.body, url).toBe(INDEX);
      expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(r.headers["cache-control"]).toBe("no-cache");
      expect(r.headers["content-security-policy"]).toBe(DASHBOARD_CSP);
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["x-frame-options"]).toBe("DENY");
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
    }
    // Nothing inline or foreign is allowed.
    expect(DASHBOARD_CSP).not.toMatch(/unsafe|\*|http|data:/);
    expect(DASHBOARD_CSP).toContain("default-src 'none'");
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
  });

  it("hashed assets are cached for a year and sent compressed as the client accepts", async () => {
    const a = await start();
    const plain = await a.inject({ url: "/assets/app-abc123.js" });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(plain.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toBe(APP_JS);

    const br = await a.inject({ url: "/assets/app-abc123.js", headers: { "accept-encoding": "gzip, deflate, br" } });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toBe("accept-encoding");
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(APP_JS);
    expect(br.rawPayload.length).toBeLessThan(APP_JS.length / 4);

    const gz = await a.inject({ url: "/assets/app-abc123.js", headers: { "accept-encoding": "gzip;q=1, br;q=0" } });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.rawPayload).toString()).toBe(APP_JS);

    // Unhashed files are revalidated like index.html.
    const icon = await a.inject({ url: "/favicon.svg" });
    expect(icon.headers["content-type"]).toBe("image/svg+xml");
    expect(icon.headers["cache-control"]).toBe("no-cache");
  });

  it("answers 304 to a matching If-None-Match, and HEAD without a body", async () => {
    const a = await start();
    const first = await a.inject({ url: "/" });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await a.inject({ url: "/keys", headers: { "if-none-match": etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    expect((await a.inject({ url: "/", headers: { "if-none-match": `W/${etag}` } })).statusCode).toBe(304);
    expect((await a.inject({ url: "/", headers: { "if-none-match": '"other"' } })).statusCode).toBe(200);
    const head = await a.inject({ method: "HEAD", url: "/alerts" });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe("");
  });

  it("API paths, missing files and source maps are JSON 404s, never the page; API routes still answer", async () => {
    const a = await start();
    expect((await a.inject({ url: "/api/v1/thing" })).json()).toEqual({ ok: true });
    for (const url of [
      "/api/v1/unknown",
      "/api/v1/eth2/doppelganger",
      "/eth/v1/keystores/x",
      "/assets/missing.js",
      "/assets/app-abc123.js.map",
      "/favicon.ico",
      "/../package.json",
      "/assets/..%2f..%2fpackage.json",
    ]) {
      const r = await a.inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().code, url).toBe("ERR_NOT_FOUND");
    }
    // A dot segment resolves inside the URL: at most the page itself comes back, never a file.
    const traversal = await a.inject({ url: "/%2e%2e/%2e%2e/etc/passwd" });
    expect(traversal.statusCode === 404 || traversal.body === INDEX).toBe(true);
    // The health routes of the app are untouched.
    expect((await a.inject({ url: "/upcheck" })).body).toBe("OK");
  });

  it("without a build, / says how to build it and client routes are 404", async () => {
    const a = await start(false);
    const r = await a.inject({ url: "/" });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe("ERR_DASHBOARD_NOT_BUILT");
    expect((await a.inject({ url: "/alerts" })).statusCode).toBe(404);
  });

  it("random paths never fail with 5xx and only ever return the page, a bundle file or a 404", async () => {
    const a = await start();
    const rnd = rng(6);
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789/.-_~%?#&=:@!$'()*+,;ÄÖ";
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(rnd() * 40);
      let p = "/";
      for (let j = 0; j < len; j++) p += alphabet[Math.floor(rnd() * alphabet.length)];
      const r = await a.inject({ url: encodeURI(p) });
      expect(r.statusCode, p).toBeLessThan(500);
      if (r.statusCode === 200) expect([INDEX, APP_JS, "<svg/>"]).toContain(r.body);
      else expect([404, 400, 304]).toContain(r.statusCode);
    }
  });
});

describe("encoding choice and client routes", () => {
  const file = (br: boolean, gzip: boolean): StaticFile => ({
    body: Buffer.from("x"),
    br: br ? Buffer.from("b") : null,
    gzip: gzip ? Buffer.from("g") : null,
    type: "text/plain",
    etag: '"e"',
    immutable: false,
  });

  it.each([
    [undefined, true, true, null],
    ["", true, true, null],
    ["gzip", true, true, "gzip"],
    ["br", true, true, "br"],
    ["gzip, br", true, true, "br"],
    ["br;q=0, gzip", true, true, "gzip"],
    ["br;q=0.0, gzip;q=0", true, true, null],
    ["BR", true, true, "br"],
    ["br", false, true, null],
    ["br, gzip", false, true, "gzip"],
    ["identity", true, true, null],
  ] as const)("Accept-Encoding %j (br %s, gzip %s) -> %s", (header, br, gzip, want) => {
    expect(pickEncoding(header, file(br, gzip))).toBe(want);
  });

  it.each([
    ["/alerts", true],
    ["/keys/0xabc", true],
    ["/", true],
    ["/api/v1/alerts", false],
    ["/eth/v1/keystores", false],
    ["/assets/x.js", false],
    ["/favicon.ico", false],
    ["/a b", false],
  ])("%s is a client route: %s", (path, want) => {
    expect(isClientRoute(path)).toBe(want);
  });

  it("a directory without index.html is no build", () => {
    const t = tempDir();
    try {
      expect(loadStaticBundle(t.dir)).toBeNull();
      writeBundle(t.dir);
      const b = loadStaticBundle(t.dir)!;
      expect(b.get("/assets/app-abc123.js.map")).toBeUndefined();
      expect(b.get("/assets/app-abc123.js")?.immutable).toBe(true);
      expect(b.index.immutable).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});
