#!/usr/bin/env node
// Import-boundary check for the layers of DESIGN.md: a folder imports only from its own folder or from a lower layer.
// Chain folders never import each other; the signer transports never import each other.
// Stricter rules (DEVELOPERS.md, "Layers"): transports never import the store's repositories; src/schemas/
// (wire types shared with the dashboard) imports no Node built-in and no package but typebox; web/src
// imports nothing of src/ but src/schemas/. Another folder is imported through its index.ts (its public face), never
// file by file: util/ and schemas/ excepted (toolboxes), and lazy dynamic imports.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

// The project root; a test passes another tree as the first argument.
const root = process.argv[2] ? resolve(process.argv[2]) : resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

/** Unit (folder under src/) -> layer. A unit may import itself or any unit of a strictly lower layer. */
export const LAYERS = {
  util: 0,
  schemas: 0,
  "chains/ethereum": 1,
  "chains/cometbft": 1,
  "chains/substrate": 1,
  "chains/harmony": 1,
  store: 1,
  keys: 1,
  protection: 2,
  detect: 2,
  fleet: 2,
  alerts: 3,
  failover: 3,
  events: 3,
  signer: 3.5,
  monitor: 3.5,
  http: 4,
  privval: 4,
  grpc: 4,
  cluster: 4,
  agent: 4,
  cli: 5,
};

function unitOf(file) {
  const rel = relative(src, file).split(sep).join("/");
  const units = Object.keys(LAYERS).sort((a, b) => b.length - a.length);
  return units.find((u) => rel === u || rel.startsWith(`${u}/`));
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (/\.(ts|tsx|mts)$/.test(name)) yield p;
  }
}

const IMPORT_RE =
  /(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;

/** Transport units: they reach the store only through the services of the layers below. */
const TRANSPORTS = new Set(["http", "grpc", "privval", "cluster"]);
/** What a transport may import from store/: its error codes (status mapping) and the Store type. */
const STORE_ALLOWED_TO_TRANSPORTS = new Set(["store/errors.ts", "store/types.ts"]);
/** Toolbox units imported file by file; every other unit is imported only through its index.ts (its public face). */
const NO_FACE = new Set(["util", "schemas", "cli"]);
/** Packages src/schemas/ may import: it is compiled into the dashboard too. */
const SCHEMA_PACKAGES = new Set(["typebox"]);

function srcPath(target) {
  return relative(src, target.replace(/\.js$/, ".ts")).split(sep).join("/");
}

function packageOf(spec) {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const problems = [];
let files = 0;
for (const file of walk(src)) {
  files++;
  const from = unitOf(file);
  const relFile = relative(root, file);
  if (from === undefined) {
    problems.push(`${relFile}: lies in no layer of DESIGN.md (add its folder to scripts/checkLayers.mjs)`);
    continue;
  }
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (from === "schemas" && !spec.startsWith(".") && !SCHEMA_PACKAGES.has(packageOf(spec))) {
      problems.push(`${relFile}: src/schemas/ is shared with web/: it must not import ${spec}`);
      continue;
    }
    if (!spec.startsWith(".")) continue; // packages and node: built-ins
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + sep)) {
      problems.push(`${relFile}: imports ${spec} from outside src/`);
      continue;
    }
    const to = unitOf(target);
    if (to === undefined) {
      problems.push(`${relFile}: imports ${spec}, which lies in no layer`);
      continue;
    }
    if (to === from) continue;
    if (TRANSPORTS.has(from) && to === "store" && !STORE_ALLOWED_TO_TRANSPORTS.has(srcPath(target))) {
      problems.push(`${relFile}: transport ${from} must not import the store (${spec}): go through a service below`);
      continue;
    }
    if (LAYERS[to] >= LAYERS[from]) {
      problems.push(`${relFile}: ${from} (layer ${LAYERS[from]}) must not import ${to} (layer ${LAYERS[to]}): ${spec}`);
      continue;
    }
    // Dynamic imports may name a file: they load it lazily (a CLI command, an optional HSM module).
    const dynamic = m[2] !== undefined;
    const transportStore = TRANSPORTS.has(from) && to === "store";
    if (!NO_FACE.has(to) && !dynamic && !transportStore && srcPath(target) !== `${to}/index.ts`) {
      problems.push(`${relFile}: deep import ${spec} into ${to}/: import its public face, ${to}/index.ts`);
    }
  }
}

// web/ (the dashboard) talks to the API only: of src/ it imports the shared wire types and nothing else.
const web = join(root, "web", "src");
const schemas = join(src, "schemas");
for (const file of existsSync(web) ? walk(web) : []) {
  files++;
  const relFile = relative(root, file);
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith("node:")) problems.push(`${relFile}: web/ must not import a Node built-in: ${spec}`);
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(file), spec);
    if (target.startsWith(web + sep)) continue;
    if (!target.startsWith(schemas + sep))
      problems.push(`${relFile}: web/ must not import ${spec} (only src/schemas/)`);
  }
}

if (problems.length > 0) {
  console.error(`Layer check failed (${problems.length}):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`Layer check passed: ${files} files`);
