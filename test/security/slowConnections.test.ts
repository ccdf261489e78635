import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { CLI, waitForLine } from "../utils/cli.js";
import { attestationRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { generateTestKeys } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";
import { type RawConnection, rawConnect, rawRequest } from "./rawHttp.js";

/**
 * Issue 15 item 4: slow-trickle connections (a body one byte at a time, headers never finished) must not
 * keep their sockets forever nor exhaust the descriptors. The signer runs with a low open-file limit
 * (256) so that, without a request timeout and a connection cap below that limit, 300 such connections
 * leave it unable to accept anything; with them, signing answers again once the trickles time out.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it("300 slow-trickle connections against a signer with 256 descriptors: signing still answers", async () => {
  const t = tempDir("sg-slow-");
  cleanups.push(t.cleanup);
  const [key] = (await generateTestKeys(join(t.dir, "keys"), 1)) as [string];
  const child = spawn(
    "sh",
    [
      "-c",
      'ulimit -n 256 && exec "$0" "$@"',
      process.execPath,
      CLI,
      "signer",
      "--port",
      "0",
      "--log-level",
      "warn",
      "--db",
      `sqlite:${join(t.dir, "db.sqlite")}`,
      "--network",
      "custom",
      "--genesis-validators-root",
      TEST_GVR_HEX,
      "--no-doppelganger",
      "--keystores",
      join(t.dir, "keys"),
      "--keymanager-token-file",
      join(t.dir, "token"),
      "--http-request-timeout",
      "2s",
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  cleanups.push(async () => {
    child.kill("SIGKILL");
    await exited;
  });
  const line = await waitForLine(child as any, /slashguard signer listening on (\S+)/, 60_000);
  const url = /listening on (\S+)/.exec(line)![1]!;
  // each signing request on a new connection (a pooled keep-alive one would hold a slot of its own)
  const sign = (n: number) => {
    const body = JSON.stringify(attestationRequest(n, n + 1).body);
    return rawRequest(
      url,
      `POST /api/v1/eth2/sign/${key} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `connection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      5000,
    );
  };
  expect((await sign(1))?.status).toBe(200);

  // half never finish their headers, half trickle a body that never ends
  const slow: RawConnection[] = [];
  cleanups.push(() => {
    for (const c of slow) c.close();
  });
  const heads = Array.from({ length: 300 }, (_, i) =>
    i % 2 === 0
      ? "POST /api/v1/eth2/sign/0x00 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
      : `POST /api/v1/eth2/sign/${key} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`,
  );
  // those over the connection cap are closed by the server at once (connect may still succeed first)
  slow.push(...(await Promise.all(heads.map((h) => rawConnect(url, h).catch(() => null as never)))));
  const trickle = setInterval(() => {
    for (const c of slow) if (c && !c.socket.destroyed) c.socket.write("a");
  }, 500);
  cleanups.push(() => clearInterval(trickle));

  // signing answers again within a bound (the trickles are cut at their 2 s request timeout)
  let signed = 0;
  const end = Date.now() + 15_000;
  for (let n = 3; Date.now() < end && signed === 0; n++) {
    const r = await sign(n);
    if (r?.status === 200) signed = n;
    else await new Promise((res) => setTimeout(res, 250));
  }
  expect(signed).toBeGreaterThan(0);
  // every trickling socket was closed by the server (those over the cap at once, the others at their timeout)
  const open = (): number => slow.filter((c) => c && !c.socket.destroyed && !c.socket.readableEnded).length;
  while (open() > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
  expect(open()).toBe(0);
  // those cut at their timeout were told so in the API's form (those over the cap got no answer)
  const answers = (await Promise.all(slow.map((c) => c?.answer(0) ?? null))).filter((a) => a !== null);
  expect(answers.length).toBeGreaterThan(0);
  expect(new Set(answers.map((a) => `${a.status} ${a.json?.code}`))).toEqual(new Set(["408 ERR_REQUEST_TIMEOUT"]));
  expect(child.exitCode).toBe(null);
}, 60_000);
