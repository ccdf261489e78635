#!/usr/bin/env node
// npm run test:model -- [--runs N] [--seed S] [--commands C] [vitest args…]: the model-based suites
// (test/model) with more runs than CI's default; the options become SLASHGUARD_MODEL_* variables.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
const rest = [];
const names = {
  "--runs": "SLASHGUARD_MODEL_RUNS",
  "--seed": "SLASHGUARD_MODEL_SEED",
  "--commands": "SLASHGUARD_MODEL_COMMANDS",
};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split("=", 2);
  const name = names[flag];
  if (name === undefined) {
    rest.push(args[i]);
    continue;
  }
  const value = inline ?? args[++i];
  if (value === undefined || !/^-?\d+$/.test(value)) {
    console.error(`${flag} needs an integer`);
    process.exit(2);
  }
  env[name] = value;
}
const r = spawnSync("npx", ["vitest", "run", "--project", "model", ...rest], { stdio: "inherit", env });
process.exit(r.status ?? 1);
