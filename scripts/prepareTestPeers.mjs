#!/usr/bin/env node
// Installs the real peer clients the end-to-end tests run (Lodestar 1.5.1, with its own lockfile) when
// they are missing, so that `npm test` on a fresh machine runs the whole suite. SLASHGUARD_SKIP_PEERS=1
// skips it (those tests are then reported as skipped, with the reason).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const lodestar = join(root, "test", "e2e", "lodestar");
if (process.env.SLASHGUARD_SKIP_PEERS === "1") process.exit(0);
if (existsSync(join(lodestar, "node_modules", "@chainsafe", "lodestar", "lib", "index.js"))) process.exit(0);
console.log("installing the Lodestar 1.5.1 test peer (test/e2e/lodestar, once)…");
const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: lodestar, stdio: "inherit" });
if (r.status !== 0) {
  console.warn("could not install the Lodestar test peer: its end-to-end tests will be SKIPPED");
}
