import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM } from "../utils/browser.js";
import { tempDir } from "../utils/stores.js";
import { REPO_ROOT } from "../utils/vectors.js";

/**
 * A new user's clone has no ../shared beside it. This clones the committed HEAD into a temporary folder
 * (nothing beside it, SLASHGUARD_VECTORS and SLASHGUARD_SPECS unset) and runs there every test file that
 * reads vectors or spec files, plus a few plain unit files: the run must exit 0, and every vector test
 * must be reported skipped with the reason, none passed and none failed.
 *
 * What it reuses, and why that is honest: `node_modules` is a symlink to this checkout's (the clone has
 * the same package-lock.json, checked below, so `npm ci` would install the same tree; a second install
 * would cost minutes of CI for nothing this test is about), and so is `dist/` (the build of this same
 * commit that `npm test` made before running the suite; the e2e files run it). Two e2e tests that read
 * no vectors and cost most of the time (a monitor SIGKILL test and the `up` browser test) are filtered out
 * by name; their vector tests in the same files are not.
 */

const run = promisify(execFile);

/** Identifiers through which a test reads ../shared (test/utils/vectors.ts and the helpers built on it). */
const READS_SHARED =
  /\b(loadVector|loadVectorFiles|cometVector|harmonyVector|HARMONY_VECTORS|FakeHarmonyNode|writeVectorKeystore|PROPOSAL_PROTO|SPECS_DIR|VECTORS_DIR)\b/;
const GUARDED = /\b(withVectors|skipWithoutVectors)\(/;
const PLAIN_UNIT_FILES = [
  "test/unit/store/migrations.test.ts",
  "test/unit/fleet/reportFormat.test.ts",
  "test/unit/failover/hysteresis.test.ts",
];
const EXPENSIVE_WITHOUT_VECTORS = [
  "SIGKILL right after an accepted report or a queued notification loses neither",
  "`slashguard up`: the signer view and a key's signatures per epoch",
];

/** The test files (.test.ts, .test.tsx) under test/ of a checkout, relative to it; node_modules folders left out. */
function testFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== "node_modules") walk(join(dir, e.name));
      else if (e.isFile() && /\.test\.tsx?$/.test(e.name)) out.push(relative(root, join(dir, e.name)));
    }
  };
  walk(join(root, "test"));
  return out.sort();
}

interface JsonReport {
  success: boolean;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

describe("a fresh clone without ../shared", () => {
  const t = tempDir("sg-clone-");
  afterAll(() => t.cleanup());

  it("every test that reads ../shared goes through withVectors or skipWithoutVectors", () => {
    const unguarded = testFiles(REPO_ROOT).filter((f) => {
      if (f === "test/e2e/freshClone.test.ts") return false; // names the identifiers, reads nothing
      const src = readFileSync(join(REPO_ROOT, f), "utf8");
      return READS_SHARED.test(src) && !GUARDED.test(src);
    });
    expect(unguarded).toEqual([]);
  });

  it("runs the vector-reading files: exit 0, their vector tests skipped with the reason", async () => {
    const clone = join(t.dir, "slashguard");
    await run("git", ["clone", "--quiet", "--no-checkout", REPO_ROOT, clone]);
    await run("git", [
      "-C",
      clone,
      "checkout",
      "--quiet",
      (await run("git", ["-C", REPO_ROOT, "rev-parse", "HEAD"])).stdout.trim(),
    ]);
    expect(existsSync(join(t.dir, "shared"))).toBe(false);
    expect(readFileSync(join(clone, "package-lock.json"), "utf8")).toBe(
      readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8"),
    );
    symlinkSync(join(REPO_ROOT, "node_modules"), join(clone, "node_modules"), "dir");
    symlinkSync(join(REPO_ROOT, "dist"), join(clone, "dist"), "dir");

    const guarded = testFiles(clone).filter((f) => GUARDED.test(readFileSync(join(clone, f), "utf8")));
    expect(guarded.length).toBeGreaterThanOrEqual(20);
    const env = { ...process.env };
    for (const k of ["SLASHGUARD_VECTORS", "SLASHGUARD_SPECS", "SLASHGUARD_REQUIRE_VECTORS", "FORCE_COLOR"])
      delete env[k];
    env.NO_COLOR = "1";
    const reportFile = join(t.dir, "report.json");
    const skipExpensive = `^(?!.*(${EXPENSIVE_WITHOUT_VECTORS.map((n) => n.replace(/[.*+?^${}()|[\]\\`]/g, "\\$&")).join("|")}))`;
    const r = await run(
      process.execPath,
      [
        join(clone, "node_modules", "vitest", "vitest.mjs"),
        "run",
        ...guarded,
        ...PLAIN_UNIT_FILES,
        "--testNamePattern",
        skipExpensive,
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${reportFile}`,
      ],
      { cwd: clone, env, maxBuffer: 64 << 20, timeout: 600_000 },
    ).then(
      (x) => ({ code: 0, out: x.stdout + x.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(r.code, r.out.slice(-4000)).toBe(0);
    const report = JSON.parse(readFileSync(reportFile, "utf8")) as JsonReport;
    expect(report.numFailedTests).toBe(0);
    const byFile = new Map(report.testResults.map((f) => [relative(clone, f.name), f.assertionResults]));
    for (const f of guarded) {
      const results = byFile.get(f);
      expect(results, `${f} ran`).toBeDefined();
      expect(
        results!.filter((a) => a.status === "skipped").length,
        `${f}: its vector tests are reported skipped`,
      ).toBeGreaterThan(0);
      // the reason reaches the reader: once per file on stderr, naming the missing path and test/VECTORS.md
      // (the browser tests are skipped before they look for vectors where Debian's chromium is missing)
      if (f === "test/e2e/dashboard.test.ts" && !HAS_CHROMIUM) continue;
      expect(r.out, `${f}: the skip reason is printed`).toMatch(
        new RegExp(
          `stderr \\| ${f.replace(/[.]/g, "\\.")}[^\\n]*\\n[^\\n]*vector tests SKIPPED: needs [^\\n]*test/VECTORS\\.md`,
        ),
      );
    }
    // files that need vectors throughout report exactly one skipped test whose name says why
    const wholeFileSkips = [...byFile.values()]
      .flat()
      .filter((a) => /SKIPPED, needs .*test\/VECTORS\.md/.test(a.fullName));
    expect(wholeFileSkips.length).toBeGreaterThanOrEqual(10);
    expect(wholeFileSkips.every((a) => a.status === "skipped")).toBe(true);
    // and the plain unit files ran for real
    for (const f of PLAIN_UNIT_FILES)
      expect(
        byFile.get(f)?.some((a) => a.status === "passed"),
        f,
      ).toBe(true);
  });
});
