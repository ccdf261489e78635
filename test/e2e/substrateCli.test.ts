import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { GrandpaStage } from "../../src/chains/substrate/types.js";
import { SubstrateProtection } from "../../src/protection/substrate/substrateProtection.js";
import { openStore } from "../../src/store/openStore.js";
import { nullLogger } from "../../src/util/logger.js";
import { freshStoreUrl, tempDir } from "../utils/stores.js";
import { writeVectorKeystore } from "../utils/substrateSigner.js";
import { REPO_ROOT, skipWithoutVectors } from "../utils/vectors.js";

const run = promisify(execFile);
const cli = (...args: string[]) =>
  run(process.execPath, [join(REPO_ROOT, "dist/cli/main.js"), ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

const work = tempDir("sg-sub-cli-");
afterAll(() => work.cleanup());

describe("slashguard substrate / protection --chain substrate", () => {
  it("import-keystore copies checked key files (0600) and reports files whose secret does not match", async (ctx) => {
    skipWithoutVectors(ctx, { vectors: ["substrate/keys.json"] });
    const node = join(work.dir, "node-ks");
    const signer = join(work.dir, "signer-ks");
    mkdirSync(node);
    writeVectorKeystore(node);
    // a file named after a key its secret does not derive
    writeFileSync(join(node, `6772616e${"11".repeat(32)}`), JSON.stringify("//Alice"));
    const r = await cli("substrate", "import-keystore", "--from", node, "--to", signer);
    expect(r.stdout).toContain("4 keys copied");
    expect(r.code).toBe(1);
    expect(readdirSync(signer)).toHaveLength(4);
    for (const f of readdirSync(signer)) expect(statSync(join(signer, f)).mode & 0o777).toBe(0o600);
    const again = await cli("substrate", "import-keystore", "--from", node, "--to", signer, "--key-type", "gran");
    expect(again.stdout).toContain("0 keys copied, 1 already there");
  });

  it("protection export/import --chain substrate moves state; status lists the keys; ethereum still needs its root", async () => {
    const a = await freshStoreUrl("sqlite");
    const b = await freshStoreUrl("sqlite");
    try {
      const store = await openStore(a.url);
      const p = new SubstrateProtection({}, { store, logger: nullLogger });
      const rec = {
        kind: "grandpa" as const,
        stage: GrandpaStage.Precommit,
        targetHash: new Uint8Array(32).fill(3),
        targetNumber: 9n,
        round: 4n,
        setId: 2n,
      };
      await p.checkAndRecord({ keyType: "gran", publicKey: new Uint8Array(32).fill(7), records: [rec] });
      await p.close();
      await store.close();

      const file = join(work.dir, "substrate.json");
      const exp = await cli("protection", "export", "--chain", "substrate", "--db", a.url, file);
      expect(exp.code).toBe(0);
      expect(exp.stderr).toContain("exported 1 substrate keys, 1 records");
      const imp = await cli("protection", "import", "--chain", "substrate", "--db", b.url, file);
      expect(imp.stdout).toContain("imported 1 substrate keys, 1 records");
      const status = await cli("protection", "status", "--db", b.url, "--json");
      const lines = status.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({ chain: "substrate", key_type: "gran", last_set_id: "2", last_round: "4" }),
      ]);
      const table = await cli("protection", "status", "--db", b.url);
      expect(table.stdout).toContain("1 substrate keys");

      const eth = await cli("protection", "import", "--db", b.url, file);
      expect(eth.code).toBe(1);
      expect(eth.stderr).toContain("required option '--genesis-validators-root <hex>' not specified");
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });
});
