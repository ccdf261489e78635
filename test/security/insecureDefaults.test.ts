import { chmodSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli, startCli, waitForLine } from "../utils/cli.js";
import { TEST_GVR_HEX } from "../utils/ethRequests.js";
import { generateTestKeys, startSignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";
import { rawRequest } from "./rawHttp.js";

/**
 * Issue 15 item 12: careless defaults. A non-loopback bind without TLS is refused unless
 * --allow-insecure-http; the address printed is the one really bound; secrets readable by others are
 * warned about; a new SQLite database and its folder are private.
 */
const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function keysIn(): Promise<{ dir: string; keys: string }> {
  const t = tempDir("sg-insecure-");
  cleanups.push(t.cleanup);
  await generateTestKeys(join(t.dir, "keys"), 1);
  return { dir: t.dir, keys: join(t.dir, "keys") };
}

it("signer and up refuse a non-loopback bind without TLS", async () => {
  const { dir, keys } = await keysIn();
  const signer = await runCli([
    "signer",
    "--host",
    "0.0.0.0",
    "--port",
    "0",
    "--db",
    `sqlite:${join(dir, "db.sqlite")}`,
    ...NET,
    "--keystores",
    keys,
    "--keymanager-token-file",
    join(dir, "token"),
  ]);
  expect(signer.code).toBe(1);
  expect(signer.stderr).toContain("ERR_CONFIG_INVALID");
  const up = await runCli(["up", "--host", "0.0.0.0", "--port", "0", "--data-dir", join(dir, "up"), "--no-agent"]);
  expect(up.code).toBe(1);
  expect(up.stderr).toContain("ERR_CONFIG_INVALID");
});

it("--allow-insecure-http starts, prints the wildcard address it bound, and still checks the Host", async () => {
  const { dir, keys } = await keysIn();
  const s = await startSignerProcess([
    "--host",
    "0.0.0.0",
    "--allow-insecure-http",
    "--db",
    `sqlite:${join(dir, "db.sqlite")}`,
    ...NET,
    "--keystores",
    keys,
    "--keymanager-token-file",
    join(dir, "token"),
  ]);
  cleanups.push(() => s.stop());
  expect(s.url).toMatch(/^http:\/\/0\.0\.0\.0:[0-9]+$/);
  const port = new URL(s.url).port;
  const get = (host: string) =>
    rawRequest(`http://127.0.0.1:${port}`, `GET /upcheck HTTP/1.1\r\nHost: ${host}\r\nconnection: close\r\n\r\n`);
  expect((await get(`127.0.0.1:${port}`))?.status).toBe(200);
  const evil = await get("rebind.attacker.example");
  expect(evil?.status).toBe(403);
  expect(evil?.json?.code).toBe("ERR_HOST_NOT_ALLOWED");
});

it("warns about a token or password file others can read; creates the database 0600 in a 0700 folder", async () => {
  const { dir, keys } = await keysIn();
  const token = join(dir, "token");
  writeFileSync(token, "a-token-of-at-least-some-length\n");
  chmodSync(token, 0o644);
  const pw = join(keys, "loose.txt");
  writeFileSync(pw, "password");
  chmodSync(pw, 0o640);
  const child = startCli([
    "signer",
    "--port",
    "0",
    "--log-level",
    "warn",
    "--db",
    `sqlite:${join(dir, "private", "sub", "db.sqlite")}`,
    ...NET,
    "--keystores",
    keys,
    "--keymanager-token-file",
    token,
  ]);
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  // "close", not "exit": stderr may still hold the last log lines when the process has exited
  const exited = new Promise((r) => child.once("close", r));
  await waitForLine(child, /slashguard signer listening on/, 60_000);
  child.kill("SIGTERM");
  await exited;
  const warned = stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { file?: string; level?: number | string });
  expect(warned.map((l) => l.file).filter((f) => f !== undefined)).toEqual(expect.arrayContaining([token, pw]));
  expect(statSync(join(dir, "private")).mode & 0o777).toBe(0o700);
  expect(statSync(join(dir, "private", "sub")).mode & 0o777).toBe(0o700);
  expect(statSync(join(dir, "private", "sub", "db.sqlite")).mode & 0o777).toBe(0o600);
});
