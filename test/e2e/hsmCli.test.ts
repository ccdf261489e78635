import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedOf, testKey } from "../utils/comet.js";
import { runCli, writeKeyFile } from "../utils/cometSignerProcess.js";
import { HAS_SOFTHSM, markSoftHsmSkipped, type SoftHsm, softHsm } from "../utils/softhsm.js";
import { tempDir } from "../utils/stores.js";

const TOKEN = "cli-token";
const lastLine = (s: string): string => s.trimEnd().split("\n").at(-1)!;

markSoftHsmSkipped("slashguard keys hsm");

describe.skipIf(!HAS_SOFTHSM)("slashguard keys hsm generate|import|list (SoftHSM2)", () => {
  const work = tempDir("sg-hsm-cli-");
  let hsm: SoftHsm;
  let target: string[];

  beforeAll(() => {
    hsm = softHsm(work.dir);
    hsm.initToken(TOKEN);
    target = ["--module", hsm.module, "--token-label", TOKEN, "--pin-file", hsm.pinFile];
  });
  afterAll(() => work.cleanup());

  it("generate prints the public key as 64 hex characters on the last line; list shows it; a taken label is refused", async () => {
    const g = await runCli(["keys", "hsm", "generate", ...target, "--label", "val-1", "--id", "0102"]);
    expect(g.code).toBe(0);
    const pub = lastLine(g.stdout);
    expect(pub).toMatch(/^[0-9a-f]{64}$/);
    const l = await runCli(["keys", "hsm", "list", ...target]);
    expect(l.code).toBe(0);
    expect(l.stdout).toContain(`${pub} label="val-1" id=0102 sensitive,non-extractable,generated-in-token`);
    const again = await runCli(["keys", "hsm", "generate", ...target, "--label", "val-1"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("ERR_HSM_LABEL_TAKEN");
    expect(again.stdout).toBe("");
  });

  it("import takes a priv_validator_key.json; deletes it only with --delete-source", async () => {
    const key = testKey("cli-import");
    const keep = writeKeyFile(work.dir, seedOf("cli-import"), key, "keep.json");
    const before = readFileSync(keep, "utf8");
    const a = await runCli(["keys", "hsm", "import", ...target, "--label", "imp-1", "--priv-validator-key", keep]);
    expect(a.code).toBe(0);
    expect(lastLine(a.stdout)).toBe(Buffer.from(key.publicKey).toString("hex"));
    expect(readFileSync(keep, "utf8")).toBe(before);

    const key2 = testKey("cli-import-2");
    const gone = writeKeyFile(work.dir, seedOf("cli-import-2"), key2, "gone.json");
    const b = await runCli([
      "keys",
      "hsm",
      "import",
      ...target,
      "--label",
      "imp-2",
      "--priv-validator-key",
      gone,
      "--delete-source",
    ]);
    expect(b.code).toBe(0);
    expect(lastLine(b.stdout)).toBe(Buffer.from(key2.publicKey).toString("hex"));
    expect(existsSync(gone)).toBe(false);
    const l = await runCli(["keys", "hsm", "list", ...target]);
    expect(l.stdout).toMatch(
      new RegExp(
        `${Buffer.from(key2.publicKey).toString("hex")} label="imp-2" id=[0-9a-f]+ sensitive,non-extractable,imported`,
      ),
    );
  });

  it("a failed import changes nothing and keeps the source, even with --delete-source", async () => {
    const src = writeKeyFile(work.dir, seedOf("cli-fail"), testKey("cli-fail"), "fail.json");
    // the label is taken: refused before anything is written
    const r = await runCli([
      "keys",
      "hsm",
      "import",
      ...target,
      "--label",
      "imp-1",
      "--priv-validator-key",
      src,
      "--delete-source",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERR_HSM_LABEL_TAKEN");
    expect(existsSync(src)).toBe(true);
    const bad = join(work.dir, "bad.json");
    const r2 = await runCli(["keys", "hsm", "import", ...target, "--label", "imp-9", "--priv-validator-key", bad]);
    expect(r2.code).toBe(1);
    const wrongPin = await runCli(["keys", "hsm", "list", ...target.slice(0, 4), "--pin-file", join(work.dir, "none")]);
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toContain("ERR_HSM_PIN_FILE");
  });
});
