import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient, type HttpLimits, limitsFor } from "../../../src/util/httpClient.js";
import { HttpError, HttpErrorCode } from "../../../src/util/httpErrors.js";

const LIMITS: HttpLimits = {
  connectTimeoutMs: 2000,
  headersTimeoutMs: 2000,
  bodyTimeoutMs: 2000,
  maxBodyBytes: 1 << 20,
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe("HttpClient against real loopback servers", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  const serve = async (h: Handler): Promise<{ url: string; server: Server }> => {
    const server = createServer(h);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  };
  const tcp = async (onSocket: (s: Socket) => void): Promise<{ port: number; server: TcpServer }> => {
    const sockets = new Set<Socket>();
    const server = createTcpServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
      onSocket(s);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    return { port: (server.address() as AddressInfo).port, server };
  };
  const failure = async (p: Promise<unknown>): Promise<HttpError> => {
    const e = await p.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(HttpError);
    return e as HttpError;
  };

  it("an endless body stops at the cap: typed error, at most the cap held, the server could not push it all", async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    let closed: () => void = () => {};
    const serverDone = new Promise<void>((r) => {
      closed = r;
    });
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const pump = (): void => {
        // 1 GiB offered, written only as fast as the client reads (back-pressure)
        while (written < 1 << 30 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
      };
      res.on("close", () => closed());
      pump();
    });
    const cap = 1 << 20;
    const e = await failure(new HttpClient({ ...LIMITS, maxBodyBytes: cap }).request({ url }));
    expect(e.code).toBe(HttpErrorCode.TooLarge);
    if (e.type.code !== HttpErrorCode.TooLarge) throw e;
    // the client counted one chunk past the cap at most (socket reads are at most 64 KiB) and kept none of it
    expect(e.type.readBytes).toBeGreaterThan(cap);
    expect(e.type.readBytes).toBeLessThanOrEqual(cap + 64 * 1024);
    await serverDone;
    // what the server managed to write: the cap plus kernel socket buffers, far below the 1 GiB offered
    expect(written).toBeLessThan(64 << 20);
  });

  it("a declared Content-Length over the cap is refused before reading", async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { "content-length": String(10 << 20) });
      res.write("x");
    });
    const e = await failure(new HttpClient({ ...LIMITS, maxBodyBytes: 1024 }).request({ url }));
    expect(e.type).toMatchObject({ code: HttpErrorCode.TooLarge, readBytes: 0, limitBytes: 1024 });
  });

  it("headers that never come: headers timeout", async () => {
    const { url } = await serve(() => {});
    const e = await failure(new HttpClient({ ...LIMITS, headersTimeoutMs: 200 }).request({ url }));
    expect(e.type).toMatchObject({ code: HttpErrorCode.Timeout, phase: "headers" });
  });

  it("a body trickled a byte at a time never ends: the whole-body timeout fires (an idle timeout would not)", async () => {
    const timers: NodeJS.Timeout[] = [];
    closers.push(async () => timers.forEach(clearInterval));
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("[");
      timers.push(setInterval(() => res.write("1,"), 20));
    });
    const e = await failure(new HttpClient({ ...LIMITS, bodyTimeoutMs: 300 }).request({ url }));
    expect(e.type).toMatchObject({ code: HttpErrorCode.Timeout, phase: "body" });
  });

  it("a TLS handshake that never completes: connect timeout", async () => {
    const { port } = await tcp(() => {}); // accepts, never speaks TLS
    const e = await failure(
      new HttpClient({ ...LIMITS, connectTimeoutMs: 200, headersTimeoutMs: 5000 }).request({
        url: `https://127.0.0.1:${port}/`,
      }),
    );
    expect(e.type).toMatchObject({ code: HttpErrorCode.Timeout, phase: "connect" });
  });

  it("a total deadline ends the exchange whatever the phases allow", async () => {
    const { url } = await serve(() => {});
    const e = await failure(new HttpClient({ ...LIMITS, totalTimeoutMs: 150 }).request({ url }));
    expect(e.type).toMatchObject({ code: HttpErrorCode.Timeout, phase: "total" });
  });

  it("malformed JSON, a non-2xx status, a cut-short body and a refused connection are typed", async () => {
    const { url } = await serve((req, res) => {
      if (req.url === "/bad") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"a": [1, 2');
      } else if (req.url === "/cut") {
        res.writeHead(200, { "content-length": "100" });
        res.write("{");
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(503, { "content-type": "application/json" });
        res.end("{}");
      }
    });
    const c = new HttpClient(LIMITS);
    expect((await failure(c.getJson(`${url}/bad`))).type).toMatchObject({ code: HttpErrorCode.BadJson, status: 200 });
    expect((await failure(c.getJson(`${url}/x`))).type).toMatchObject({ code: HttpErrorCode.Status, status: 503 });
    expect((await failure(c.getJson(`${url}/cut`))).code).toBe(HttpErrorCode.Connection);
    const { port, server } = await tcp(() => {});
    await new Promise<void>((r) => server.close(() => r()));
    const refused = await failure(c.getJson(`http://127.0.0.1:${port}/`));
    expect(refused.type).toMatchObject({ code: HttpErrorCode.Connection, cause: "ECONNREFUSED" });
    expect((await failure(c.getJson("ftp://example/x"))).code).toBe(HttpErrorCode.BadUrl);
  });

  it("the caller's signal aborts", async () => {
    const { url } = await serve(() => {});
    const ac = new AbortController();
    const p = new HttpClient(LIMITS).request({ url, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect((await failure(p)).code).toBe(HttpErrorCode.Aborted);
  });

  it("credentials in the URL, query and path, and the authorization header never reach an error", async () => {
    const { url, server } = await serve((req, res) => {
      res.writeHead(500, { "x-seen-auth": req.headers.authorization ?? "" });
      res.end("token echoed back: s3cr3t-bearer-value");
    });
    const secrets = ["alice", "pa55word", "QUERYSECRET1", "0123456789abcdef0123456789abcdef", "s3cr3t-bearer-value"];
    const u = new URL(url);
    const withSecrets = `http://alice:pa55word@${u.host}/v3/0123456789abcdef0123456789abcdef/rpc?apikey=QUERYSECRET1`;
    const c = new HttpClient(LIMITS);
    const seen: string[] = [];
    server.on("request", (req: IncomingMessage) => seen.push(req.headers.authorization ?? ""));
    const e = await failure(
      c.postJson(withSecrets, { x: 1 }, { headers: { authorization: "Bearer s3cr3t-bearer-value" } }),
    );
    expect(e.code).toBe(HttpErrorCode.Status);
    const text = `${e.message} ${JSON.stringify(e.toObject())} ${e.stack}`;
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).toContain(`http://${u.host}/v3/***/rpc?apikey=***`);
    // the bearer header wins over the URL's user info; the request did carry it
    expect(seen).toEqual(["Bearer s3cr3t-bearer-value"]);
    // without a header, user info becomes Basic authentication
    seen.length = 0;
    await failure(c.getJson(withSecrets));
    expect(seen).toEqual([`Basic ${Buffer.from("alice:pa55word").toString("base64")}`]);
    // a refused connection and a timeout are redacted too
    const { port, server: gone } = await tcp(() => {});
    await new Promise<void>((r) => gone.close(() => r()));
    const refused = await failure(c.getJson(`http://alice:pa55word@127.0.0.1:${port}/bot123456:AAsecretTOKENvalue/x`));
    expect(`${refused.message} ${JSON.stringify(refused.toObject())}`).not.toMatch(/alice|pa55word|AAsecretTOKEN/);
  });

  it("a keep-alive connection the server reset just before reuse is retried once on a fresh connection", async () => {
    let connections = 0;
    const answer =
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}";
    const { port } = await tcp((s) => {
      connections++;
      let requests = 0;
      s.on("data", () => {
        requests++;
        // first request on a connection answered; a second one on the same connection is reset
        if (requests === 1) s.write(answer);
        else s.resetAndDestroy();
      });
    });
    const c = new HttpClient(LIMITS);
    const url = `http://127.0.0.1:${port}/`;
    expect(await c.getJson(url)).toEqual({});
    expect(await c.getJson(url)).toEqual({});
    expect(connections).toBe(2);
  });

  it("JSON-RPC: result, error member and non-RPC answers", async () => {
    const { url } = await serve((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        const m = (JSON.parse(body) as { method: string }).method;
        res.writeHead(m === "boom" ? 500 : 200, { "content-type": "application/json" });
        if (m === "ok") res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: ["Authority"] }));
        else if (m === "boom")
          res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: "nope" } }));
        else res.end("[1]");
      });
    });
    const c = new HttpClient(limitsFor(2000, 1 << 16));
    expect(await c.jsonRpc(url, "ok", [])).toEqual(["Authority"]);
    expect((await failure(c.jsonRpc(url, "boom", []))).type).toMatchObject({
      code: HttpErrorCode.Rpc,
      rpcCode: -32601,
    });
    expect((await failure(c.jsonRpc(url, "other", []))).code).toBe(HttpErrorCode.Rpc);
  });
});
