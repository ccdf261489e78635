import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { FailoverErrorCode } from "../../../../src/failover/errors.js";
import {
  isLoopbackUrl,
  PEER_AUTH_HEADER,
  PEER_NONCE_HEADER,
  PeerToken,
} from "../../../../src/failover/peers/peerAuth.js";
import { PeerClient } from "../../../../src/failover/peers/peers.js";
import type { FailoverStatus } from "../../../../src/failover/status.js";
import { failoverRoutes } from "../../../../src/http/routes/failover/failoverRoutes.js";

/**
 * Issue 14 defect 6: the peer failover API was unauthenticated plain HTTP, so a spoofed /status saying
 * "not running" confirmed an old node stopped. With a shared token, requests and answers are signed
 * (nonce + HMAC); an unsigned, wrongly signed or replayed answer is no answer.
 */
const TOKEN = "t".repeat(40);
const STOPPED = {
  node_id: "a",
  role: "passive",
  ready: false,
  node: { running: false, starting: false, key: "dummy" },
} as unknown as FailoverStatus;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function realPeer(token: PeerToken | null): Promise<string> {
  const app: FastifyInstance = Fastify();
  await app.register(failoverRoutes, {
    daemon: { healthy: true, status: () => STOPPED, validatorState: async () => ({ height: 5n, round: 0, step: 3 }) },
    peerToken: token,
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  closers.push(() => app.close());
  return url;
}

/** A spoofing server: answers whatever it was given, headers included. */
async function spoofPeer(body: string, headers: Record<string, string> = {}): Promise<string> {
  const srv: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", ...headers });
    res.end(body);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => srv.close(() => r())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

const client = (url: string, token: PeerToken | null, loopback = false) =>
  new PeerClient([{ id: "a", url, loopback }], 2000, token);

describe("peer authentication", () => {
  it("a peer signed with the shared token is authenticated", async () => {
    const url = await realPeer(new PeerToken(TOKEN));
    const v = await client(url, new PeerToken(TOKEN)).status("a");
    expect(v).toMatchObject({ nodeRunning: false, starting: false, authenticated: true });
    expect(await client(url, new PeerToken(TOKEN)).validatorState("a")).toMatchObject({ height: 5n });
  });

  it("the server refuses a request without the token's signature (401, typed code)", async () => {
    const url = await realPeer(new PeerToken(TOKEN));
    const r = await fetch(`${url}/status`);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { code: string }).code).toBe(FailoverErrorCode.PeerAuth);
    expect(await client(url, new PeerToken("x".repeat(40))).status("a")).toBeNull();
  });

  it("a spoofed, unsigned /status is no answer", async () => {
    const url = await spoofPeer(JSON.stringify(STOPPED));
    expect(await client(url, new PeerToken(TOKEN)).status("a")).toBeNull();
  });

  it("a replayed signed answer (made for another nonce) is no answer", async () => {
    const real = await realPeer(new PeerToken(TOKEN));
    const t = new PeerToken(TOKEN);
    const nonce = PeerToken.nonce();
    const r = await fetch(`${real}/status`, {
      headers: { [PEER_NONCE_HEADER]: nonce, [PEER_AUTH_HEADER]: t.requestMac("GET", "/status", nonce) },
    });
    const body = await r.text();
    const spoof = await spoofPeer(body, { [PEER_AUTH_HEADER]: r.headers.get(PEER_AUTH_HEADER) ?? "" });
    expect(await client(spoof, t).status("a")).toBeNull();
  });

  it("without a token, a remote peer's answer is not authenticated; a loopback peer's is", async () => {
    const url = await spoofPeer(JSON.stringify(STOPPED));
    expect(await client(url, null, false).status("a")).toMatchObject({ authenticated: false });
    expect(await client(url, null, true).status("a")).toMatchObject({ authenticated: true });
  });

  it("a peer answer larger than the cap is no answer (streamed, never buffered whole)", async () => {
    const url = await spoofPeer(JSON.stringify({ ...STOPPED, pad: "x".repeat(1 << 20) }));
    expect(await client(url, null, true).status("a")).toBeNull();
  });

  it("short tokens are refused; loopback addresses are recognised", () => {
    expect(() => new PeerToken("short")).toThrow(expect.objectContaining({ code: FailoverErrorCode.PeerAuth }));
    expect(isLoopbackUrl("http://127.0.0.1:8080")).toBe(true);
    expect(isLoopbackUrl("http://[::1]:8080")).toBe(true);
    expect(isLoopbackUrl("http://localhost:8080")).toBe(true);
    expect(isLoopbackUrl("http://192.168.1.2:8080")).toBe(false);
  });
});
