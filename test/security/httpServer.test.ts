import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { generateTestKeys, type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";
import { rawConnect, rawRequest } from "./rawHttp.js";

/**
 * Issue 15 items 1, 3 and 14 against a real `slashguard signer`: the Host allow-list (DNS rebinding),
 * authentication before the body is read, and errors of the HTTP layer in the `{code, message}` form.
 */
const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];

let s: SignerProcess;
let key: string;
let token: string;
let port: string;
const t = tempDir("sg-sechttp-");

beforeAll(async () => {
  [key] = (await generateTestKeys(join(t.dir, "keys"), 1)) as [string];
  s = await startSignerProcess([
    "--db",
    `sqlite:${join(t.dir, "db", "slashguard.db")}`,
    ...NET,
    "--keystores",
    join(t.dir, "keys"),
    "--keymanager-token-file",
    join(t.dir, "token"),
  ]);
  token = readFileSync(join(t.dir, "token"), "utf8").trim();
  port = new URL(s.url).port;
});

afterAll(async () => {
  await s?.stop();
  t.cleanup();
});

/** A complete request with a JSON body and the given Host header. */
function post(path: string, host: string, body: unknown, extra = ""): string {
  const b = JSON.stringify(body);
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\naccept: application/json\r\n` +
    `${extra}content-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`
  );
}

const get = (path: string, host: string, extra = ""): string =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}connection: close\r\n\r\n`;

describe("item 1: Host allow-list (DNS rebinding)", () => {
  it("a rebinding page's request (Host: its own domain) gets 403 and signs nothing", async () => {
    // a block at slot 2^64-2 would leave the key unable to ever propose again
    const poison = structuredClone(blockRequest(1).body) as any;
    poison.beacon_block.block_header.slot = "18446744073709551614";
    const a = await rawRequest(s.url, post(`/api/v1/eth2/sign/${key}`, `rebind.attacker.example:${port}`, poison));
    expect(a?.status).toBe(403);
    expect(a?.json?.code).toBe("ERR_HOST_NOT_ALLOWED");
    const keys = await rawRequest(s.url, get("/api/v1/eth2/publicKeys", "rebind.attacker.example"));
    expect(keys?.status).toBe(403);
    expect(keys?.json?.code).toBe("ERR_HOST_NOT_ALLOWED");
    // nothing was recorded: an ordinary block still signs
    const ok = await rawRequest(s.url, post(`/api/v1/eth2/sign/${key}`, `127.0.0.1:${port}`, blockRequest(100).body));
    expect(ok?.status).toBe(200);
  });

  it("the loopback names of a loopback bind are admitted, with or without a port", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST`, `[::1]:${port}`, "127.0.0.1"]) {
      const a = await rawRequest(s.url, get("/upcheck", host));
      expect([host, a?.status]).toEqual([host, 200]);
    }
  });

  it("refuses before the body is read", async () => {
    const c = await rawConnect(
      s.url,
      `POST /api/v1/eth2/sign/${key} HTTP/1.1\r\nHost: evil.example\r\ncontent-type: application/json\r\n` +
        `content-length: ${64 << 20}\r\n\r\n{`,
    );
    try {
      const a = await c.answer();
      expect(a?.status).toBe(403);
      expect(a?.json?.code).toBe("ERR_HOST_NOT_ALLOWED");
    } finally {
      c.close();
    }
  });
});

describe("item 3: authentication before the body", () => {
  for (const auth of ["", "authorization: Bearer wrong-token\r\n"]) {
    it(`an unauthenticated large keymanager POST is refused (401) before its body is sent (${auth === "" ? "no token" : "wrong token"})`, async () => {
      // 60 MiB announced, one byte sent: the answer must come without the rest of the body
      const c = await rawConnect(
        s.url,
        `POST /eth/v1/keystores HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n${auth}` +
          `content-length: ${60 << 20}\r\n\r\n{`,
      );
      try {
        const a = await c.answer();
        expect(a?.status).toBe(401);
        expect(a?.json?.code).toBe("ERR_UNAUTHORIZED");
        // and the connection is closed instead of reading the other 60 MiB
        expect(a?.headers.connection).toBe("close");
        await new Promise<void>((r) => (c.socket.destroyed ? r() : c.socket.once("close", () => r())));
      } finally {
        c.close();
      }
    });
  }

  it("the right token still reaches the route", async () => {
    const a = await rawRequest(
      s.url,
      get("/eth/v1/keystores", `127.0.0.1:${port}`, `authorization: Bearer ${token}\r\n`),
    );
    expect(a?.status).toBe(200);
    expect(a?.json?.data).toHaveLength(1);
  });
});

describe("item 14: errors of the HTTP layer keep the {code, message} form", () => {
  const host = "127.0.0.1";
  const cases: { name: string; request: () => string; status: number; code: string }[] = [
    {
      name: "headers too large",
      request: () => `GET /upcheck HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      status: 431,
      code: "ERR_HEADERS_TOO_LARGE",
    },
    {
      name: "URL too long for the header limit",
      request: () => `GET /${"a".repeat(20_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      status: 431,
      code: "ERR_HEADERS_TOO_LARGE",
    },
    {
      name: "path parameter too long",
      request: () => post(`/api/v1/eth2/sign/0x${"ab".repeat(300)}`, host, {}),
      status: 414,
      code: "ERR_URI_TOO_LONG",
    },
    {
      name: "bad percent-encoding",
      request: () => get("/api/v1/eth2/sign/%E0%A4%A", host),
      status: 400,
      code: "ERR_BAD_URL",
    },
    { name: "not HTTP", request: () => "HELLO\r\n\r\n", status: 400, code: "ERR_BAD_REQUEST" },
    {
      name: "unknown method",
      request: () => `FOO /upcheck HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      status: 400,
      code: "ERR_BAD_REQUEST",
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.code}`, async () => {
      const a = await rawRequest(s.url, c.request());
      expect(a?.status).toBe(c.status);
      expect(a?.json?.code).toBe(c.code);
      expect(typeof a?.json?.message).toBe("string");
    });
  }

  it("the process still answers after all of them", async () => {
    expect((await rawRequest(s.url, get("/upcheck", host)))?.status).toBe(200);
  });
});
