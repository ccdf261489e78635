import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../utils/cli.js";
import { attestationRequest, blockRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { generateTestKeys, postJson, type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { ENGINES, type Engine, freshStoreUrl, markPostgresSkipped, tempDir } from "../utils/stores.js";

// these tests are about signing and protection; the doppelganger guard has tests of its own
const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];

describe.each(ENGINES)("Ethereum signer processes on %s", (engine: Engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function setup(keys: number): Promise<{ url: string; dir: string; pubkeys: string[] }> {
    const t = tempDir("sg-e2e-");
    cleanups.push(t.cleanup);
    const db = await freshStoreUrl(engine);
    cleanups.push(db.cleanup);
    const pubkeys = await generateTestKeys(join(t.dir, "keys"), keys);
    return { url: db.url, dir: t.dir, pubkeys };
  }
  async function signer(url: string, dir: string, extra: string[] = []): Promise<SignerProcess> {
    const s = await startSignerProcess([
      "--db",
      url,
      ...NET,
      "--keystores",
      join(dir, "keys"),
      "--keymanager-token-file",
      join(dir, "token"),
      ...extra,
    ]);
    cleanups.push(() => s.stop());
    return s;
  }

  it("three signer processes on one database: exactly one signature per target and per slot", async () => {
    const { url, dir, pubkeys } = await setup(2);
    const signers = [await signer(url, dir), await signer(url, dir), await signer(url, dir)];
    const key = pubkeys[0]!;
    for (const round of [0, 1, 2]) {
      const att = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          postJson(
            `${signers[i % 3]!.url}/api/v1/eth2/sign/${key}`,
            attestationRequest(10 + round, 11 + round, i + 1).body,
          ),
        ),
      );
      expect(att.filter((r) => r.status === 200)).toHaveLength(1);
      expect(att.filter((r) => r.status === 412).every((r) => r.json.code === "ERR_ATTESTATION_DOUBLE_VOTE")).toBe(
        true,
      );
      const blocks = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          postJson(`${signers[i % 3]!.url}/api/v1/eth2/sign/${key}`, blockRequest(500 + round, i + 1).body),
        ),
      );
      expect(blocks.filter((r) => r.status === 200)).toHaveLength(1);
    }
  });

  it("SIGKILL during a burst: every signature that was returned is in the database after restart", async () => {
    const { url, dir, pubkeys } = await setup(48);
    const s = await signer(url, dir);
    const returned: { key: string; target: number }[] = [];
    let killed = false;
    const burst = pubkeys.flatMap((key) =>
      [1, 2, 3, 4, 5, 6].map(async (e) => {
        try {
          const r = await postJson(`${s.url}/api/v1/eth2/sign/${key}`, attestationRequest(e - 1, e, 1).body);
          if (r.status === 200 && typeof r.json.signature === "string") returned.push({ key, target: e });
          if (returned.length >= 100 && !killed) {
            killed = true;
            s.child.kill("SIGKILL");
          }
        } catch {
          // the connection died with the process
        }
      }),
    );
    await Promise.all(burst);
    expect(killed).toBe(true);
    expect(returned.length).toBeGreaterThanOrEqual(100);
    const exp = await runCli(["protection", "export", "--db", url, "--genesis-validators-root", TEST_GVR_HEX, "-"]);
    const recorded = new Set<string>();
    for (const d of JSON.parse(exp.stdout).data) {
      for (const a of d.signed_attestations) recorded.add(`${d.pubkey}/${a.target_epoch}`);
    }
    const missing = returned.filter((r) => !recorded.has(`${r.key}/${r.target}`));
    expect(missing).toEqual([]);
    // restarted, the signer refuses a conflicting twin of every returned signature
    const again = await signer(url, dir);
    for (const r of returned.slice(0, 20)) {
      const res = await postJson(
        `${again.url}/api/v1/eth2/sign/${r.key}`,
        attestationRequest(r.target - 1, r.target, 2).body,
      );
      expect(res.status).toBe(412);
    }
  });
});

markPostgresSkipped("Ethereum signer processes");

describe("TLS with a client-certificate allow-list", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function cert(dir: string, name: string): { cert: Buffer; key: Buffer; fingerprint: string } {
    const key = join(dir, `${name}.key`);
    const crt = join(dir, `${name}.crt`);
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        `/CN=${name}`,
        "-days",
        "2",
        "-keyout",
        key,
        "-out",
        crt,
      ],
      { stdio: "ignore" },
    );
    const fp = execFileSync("openssl", ["x509", "-in", crt, "-noout", "-fingerprint", "-sha256"], { encoding: "utf8" })
      .split("=")[1]!
      .trim();
    return { cert: readFileSync(crt), key: readFileSync(key), fingerprint: fp };
  }

  function get(url: string, client?: { cert: Buffer; key: Buffer }): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}/upcheck`, { rejectUnauthorized: false, ...(client ?? {}) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("admits listed client certificates only", async () => {
    const t = tempDir("sg-tls-");
    cleanups.push(t.cleanup);
    const server = cert(t.dir, "server");
    const alice = cert(t.dir, "alice");
    const mallory = cert(t.dir, "mallory");
    writeFileSync(join(t.dir, "allowed"), `# validator clients\nalice ${alice.fingerprint}\n`);
    await generateTestKeys(join(t.dir, "keys"), 1);
    const db = await freshStoreUrl("sqlite");
    cleanups.push(db.cleanup);
    const s = await startSignerProcess([
      "--db",
      db.url,
      ...NET,
      "--keystores",
      join(t.dir, "keys"),
      "--keymanager-token-file",
      join(t.dir, "token"),
      "--tls-cert",
      join(t.dir, "server.crt"),
      "--tls-key",
      join(t.dir, "server.key"),
      "--tls-allowed-clients",
      join(t.dir, "allowed"),
    ]);
    cleanups.push(() => s.stop());
    expect(s.url).toMatch(/^https:/);
    expect(await get(s.url, alice)).toBe(200);
    expect(await get(s.url, mallory)).toBe(403);
    expect(await get(s.url)).toBe(403);
    expect(server.fingerprint).not.toBe(alice.fingerprint);
  });
});
