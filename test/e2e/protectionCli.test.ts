import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startCli, waitForLine } from "../utils/cli.js";
import { GVR_HEX, interchange, KEY_HEX, ROOT_HEX } from "../utils/interchange.js";
import { ENGINES, type Engine, freshStoreUrl, markPostgresSkipped, tempDir } from "../utils/stores.js";

const attLine = (key: string, s: number, t: number, r: number): string =>
  JSON.stringify({
    kind: "attestation",
    pubkey: key,
    source_epoch: String(s),
    target_epoch: String(t),
    signing_root: ROOT_HEX(r),
  });
const blockLine = (key: string, slot: number, r: number): string =>
  JSON.stringify({ kind: "block", pubkey: key, slot: String(slot), signing_root: ROOT_HEX(r) });

describe.each(ENGINES)("protection CLI on %s", (engine: Engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function db(): Promise<string> {
    const s = await freshStoreUrl(engine);
    cleanups.push(s.cleanup);
    return s.url;
  }
  const dir = (): string => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };

  it("import, check, export: exit codes and one-line errors", async () => {
    const url = await db();
    const d = dir();
    const good = join(d, "good.json");
    writeFileSync(
      good,
      interchange([{ pubkey: KEY_HEX(1), signed_blocks: [{ slot: "10" }], signed_attestations: [] }]),
    );
    const ok = await runCli(["protection", "import", "--db", url, "--genesis-validators-root", GVR_HEX, good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/imported 1 validators, 1 blocks, 0 attestations/);

    const bad = join(d, "bad.json");
    writeFileSync(bad, '{"metadata":{"interchange_format_version":"5","genesis_validators_root":"0x00"');
    const r = await runCli(["protection", "import", "--db", url, "--genesis-validators-root", GVR_HEX, bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^slashguard: ERR_INTERCHANGE_/);

    const wrongRoot = await runCli([
      "protection",
      "import",
      "--db",
      url,
      "--genesis-validators-root",
      ROOT_HEX(5),
      good,
    ]);
    expect(wrongRoot.code).not.toBe(0);
    expect(wrongRoot.stderr).toMatch(/ERR_GENESIS_MISMATCH/);

    const check = await runCli(["protection", "check", "--db", url, "--genesis-validators-root", GVR_HEX], {
      input: [
        blockLine(KEY_HEX(1), 10, 1),
        "{not json",
        blockLine(KEY_HEX(1), 11, 1),
        attLine(KEY_HEX(1), 5, 4, 1),
        "",
      ].join("\n"),
    });
    expect(check.code).toBe(0);
    const answers = check.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(answers.map((a) => a.code ?? "ok")).toEqual([
      "ERR_BLOCK_DOUBLE_PROPOSAL",
      "ERR_BAD_REQUEST",
      "ok",
      "ERR_ATTESTATION_SOURCE_AFTER_TARGET",
    ]);

    const out = join(d, "out.json");
    const exp = await runCli(["protection", "export", "--db", url, "--genesis-validators-root", GVR_HEX, out]);
    expect(exp.code).toBe(0);
    const toStdout = await runCli([
      "protection",
      "export",
      "--db",
      url,
      "--genesis-validators-root",
      GVR_HEX,
      "--pubkey",
      KEY_HEX(1),
      "-",
    ]);
    const doc = JSON.parse(toStdout.stdout);
    expect(doc.data[0].signed_blocks).toEqual([{ slot: "10" }, { slot: "11", signing_root: ROOT_HEX(1) }]);

    const status = await runCli(["protection", "status", "--db", url, "--json"]);
    expect(JSON.parse(status.stdout.trim())).toMatchObject({
      pubkey: KEY_HEX(1),
      blocks: 2,
      low_slot: "10",
      max_slot: "11",
    });
  });

  it("a record survives SIGKILL right after `allowed` was printed", async () => {
    const url = await db();
    const args = ["protection", "check", "--db", url, "--genesis-validators-root", GVR_HEX];
    const child = startCli(args);
    const answer = waitForLine(child, /allowed/);
    child.stdin.write(`${attLine(KEY_HEX(2), 7, 8, 1)}\n`);
    expect(JSON.parse(await answer)).toEqual({ allowed: true });
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    const again = await runCli(args, { input: `${attLine(KEY_HEX(2), 7, 8, 2)}\n${attLine(KEY_HEX(2), 7, 8, 1)}\n` });
    const lines = again.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ allowed: false, code: "ERR_ATTESTATION_DOUBLE_VOTE" });
    expect(lines[1]).toEqual({ allowed: true }); // the identical message may be re-signed
  });

  it("three processes on one database, 100 conflicting attestations each: exactly one is allowed", async () => {
    const url = await db();
    const args = ["protection", "check", "--db", url, "--genesis-validators-root", GVR_HEX];
    // register the key and bind the root first, so the racers only race for the vote
    await runCli(args, { input: `${blockLine(KEY_HEX(3), 1, 1)}\n` });
    const runs = await Promise.all(
      [0, 1, 2].map((p) =>
        runCli(args, {
          input: Array.from({ length: 100 }, (_, i) => attLine(KEY_HEX(3), 20, 21, p * 100 + i)).join("\n"),
        }),
      ),
    );
    const answers = runs.flatMap((r) =>
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    );
    expect(answers).toHaveLength(300);
    expect(answers.filter((a) => a.allowed)).toHaveLength(1);
    expect(answers.filter((a) => a.code === "ERR_ATTESTATION_DOUBLE_VOTE")).toHaveLength(299);
  });
});

markPostgresSkipped("protection CLI");
