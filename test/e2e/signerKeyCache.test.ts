import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startCli, waitForLine } from "../utils/cli.js";
import { TEST_GVR_HEX } from "../utils/ethRequests.js";
import { generateTestKeys } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";

/** One `slashguard signer` start: how its "Keys loaded" log line counted, and the keys it serves. */
async function start(dir: string, extra: string[]): Promise<{ loaded: string; keys: string[] }> {
  const child = startCli([
    "signer",
    "--port",
    "0",
    "--db",
    `sqlite:${join(dir, "s.db")}`,
    "--network",
    "custom",
    "--genesis-validators-root",
    TEST_GVR_HEX,
    "--keystores",
    join(dir, "keys"),
    "--no-doppelganger",
    "--no-keymanager",
    "--log-level",
    "info",
    ...extra,
  ]);
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    const line = await waitForLine(child, /slashguard signer listening on (\S+)/, 60_000);
    const url = /listening on (\S+)/.exec(line)![1]!;
    const keys = ((await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json()) as string[]).sort();
    return { loaded: /"fromCache":\d+,"decrypted":\d+/.exec(err)?.[0] ?? "", keys };
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

describe("signer key cache (process)", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("the first start writes it (0600), a restart loads from it, --no-key-cache neither reads nor writes it", async () => {
    const t = tempDir("sg-kc-e2e-");
    cleanups.push(t.cleanup);
    const keys = (await generateTestKeys(join(t.dir, "keys"), 3)).sort();
    const cache = join(t.dir, "key-cache");
    const first = await start(t.dir, ["--key-cache-file", cache]);
    expect(first).toEqual({ loaded: '"fromCache":0,"decrypted":3', keys });
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(cache);
    expect(await start(t.dir, ["--key-cache-file", cache])).toEqual({ loaded: '"fromCache":3,"decrypted":0', keys });
    expect(readFileSync(cache).equals(bytes)).toBe(true);
    // off: every keystore decrypted, no cache line, nothing written at the default place
    expect(await start(t.dir, ["--no-key-cache"])).toEqual({ loaded: "", keys });
    expect(existsSync(join(t.dir, "keys", ".slashguard-key-cache"))).toBe(false);
  });
});
