import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startCli, waitForLine } from "../utils/cli.js";
import { attestationRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { generateTestKeys, postJson, startSignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";

describe("signer configuration", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("reads the YAML config; flags win over it", async () => {
    const t = tempDir("sg-cfg-");
    cleanups.push(t.cleanup);
    const keys = await generateTestKeys(join(t.dir, "keys"), 2);
    const cfg = join(t.dir, "signer.yaml");
    writeFileSync(
      cfg,
      [
        `db: sqlite:${join(t.dir, "from-config.db")}`,
        "http: { port: 1 }",
        "ethereum:",
        "  network: custom",
        `  genesis_validators_root: "${TEST_GVR_HEX}"`,
        `  keystores: ${join(t.dir, "keys")}`,
        "  doppelganger: false",
        "  keymanager:",
        "    enabled: false",
        "",
      ].join("\n"),
    );
    const s = await startSignerProcess(["--config", cfg]); // --port 0 from the harness wins over http.port 1
    cleanups.push(() => s.stop());
    expect(((await (await fetch(`${s.url}/api/v1/eth2/publicKeys`)).json()) as string[]).sort()).toEqual(
      [...keys].sort(),
    );
    expect((await fetch(`${s.url}/eth/v1/keystores`)).status).toBe(404); // keymanager disabled in the file
    expect((await postJson(`${s.url}/api/v1/eth2/sign/${keys[0]}`, attestationRequest(1, 2).body)).status).toBe(200);
    const status = await runCli(["protection", "status", "--db", `sqlite:${join(t.dir, "from-config.db")}`, "--json"]);
    expect(status.stdout).toContain(keys[0]);
  });

  it("refuses a config with an unknown key or a bad value, naming the field", async () => {
    const t = tempDir("sg-cfg-");
    cleanups.push(t.cleanup);
    const cfg = join(t.dir, "bad.yaml");
    writeFileSync(cfg, "ethereum:\n  network: mainnet\n  keystore: ./typo\n");
    const r = await runCli(["signer", "--config", cfg]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_CONFIG_INVALID.*ethereum/);
    writeFileSync(cfg, "ethereum:\n  network: mainnet\n  keystores: ./k\n  bls_threads: -3\n");
    const r2 = await runCli(["signer", "--config", cfg]);
    expect(r2.stderr).toMatch(/ERR_CONFIG_INVALID.*ethereum\.bls_threads/);
    const r3 = await runCli(["signer", "--network", "custom", "--keystores", t.dir]);
    expect(r3.stderr).toMatch(/genesis-validators-root/);
  });

  it("`slashguard up` starts with demo keys and prints what to try", async () => {
    const t = tempDir("sg-up-");
    cleanups.push(t.cleanup);
    const child = startCli(["up", "--data-dir", join(t.dir, "data"), "--port", "0"]);
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          child.once("exit", () => r());
          child.kill("SIGTERM");
        }),
    );
    const line = await waitForLine(child, /slashguard is up: (\S+)/, 60_000);
    const url = /up: (\S+)/.exec(line)![1]!;
    const keys = (await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json()) as string[];
    expect(keys).toHaveLength(4);
    expect((await fetch(`${url}/healthcheck`)).status).toBe(200);
    // the monitor shares the port; its demo owner token was written on first start
    const { readFileSync } = await import("node:fs");
    const owner = readFileSync(join(t.dir, "data", "owner-token"), "utf8").trim();
    const alerts = await fetch(`${url}/api/v1/alerts`, { headers: { authorization: `Bearer ${owner}` } });
    expect(alerts.status).toBe(200);
    expect((await fetch(`${url}/api/v1/alerts`)).status).toBe(401);
  });
});
