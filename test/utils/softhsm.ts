import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "vitest";

/** Debian's SoftHSM2 module (package softhsm2 / libsofthsm2). */
const CANDIDATES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"];
export const SOFTHSM_MODULE = CANDIDATES.find((p) => existsSync(p)) ?? null;
const UTIL = ["/usr/bin/softhsm2-util", "/usr/local/bin/softhsm2-util"].find((p) => existsSync(p)) ?? null;
export const HAS_SOFTHSM = SOFTHSM_MODULE !== null && UTIL !== null;
/** CI sets it (.ci/run): without SoftHSM2 the PKCS#11 test files then fail instead of skipping. */
if (!HAS_SOFTHSM && process.env.SLASHGUARD_REQUIRE_SOFTHSM === "1")
  throw new Error("SLASHGUARD_REQUIRE_SOFTHSM=1 and SoftHSM2 is not installed (apt-get install softhsm2)");
if (!HAS_SOFTHSM) console.warn("SoftHSM2 is not installed (apt-get install softhsm2): PKCS#11 tests are SKIPPED");

/** Shows up as a skipped test with the reason where SoftHSM2 is missing, so a skip is never silent. */
export function markSoftHsmSkipped(suite: string): void {
  if (!HAS_SOFTHSM) it.skip(`${suite}: SKIPPED, SoftHSM2 is not installed (apt-get install softhsm2)`, () => {});
}

export const USER_PIN = "4321-test";

export interface SoftHsm {
  module: string;
  /** The SOFTHSM2_CONF file: SoftHSM reads it when the module is initialised. */
  conf: string;
  tokenDir: string;
  pinFile: string;
  /** Environment for child processes that use this SoftHSM. */
  env: NodeJS.ProcessEnv;
  /** Creates a token (its own store under tokenDir). */
  initToken(label: string): void;
  /** "Pulls the token": its files disappear; `plugBack` puts them back. */
  pull(): void;
  plugBack(): void;
}

/**
 * A SoftHSM2 store in `dir` with its own config file. SoftHSM reads SOFTHSM2_CONF from the process
 * environment when C_Initialize runs, so the test process points it here before the first use
 * (test files run in their own processes: one SoftHSM per test file).
 */
export function softHsm(dir: string): SoftHsm {
  if (SOFTHSM_MODULE === null || UTIL === null) throw new Error("SoftHSM2 is not installed");
  const tokenDir = join(dir, "tokens");
  mkdirSync(tokenDir, { recursive: true });
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const pinFile = join(dir, "user.pin");
  writeFileSync(pinFile, `${USER_PIN}\n`, { mode: 0o600 });
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  process.env.SOFTHSM2_CONF = conf;
  const away = `${tokenDir}.pulled`;
  return {
    module: SOFTHSM_MODULE,
    conf,
    tokenDir,
    pinFile,
    env,
    initToken: (label) => {
      execFileSync(UTIL, ["--init-token", "--free", "--label", label, "--pin", USER_PIN, "--so-pin", "8765-so"], {
        env,
        stdio: "ignore",
      });
    },
    pull: () => renameSync(tokenDir, away),
    plugBack: () => renameSync(away, tokenDir),
  };
}
