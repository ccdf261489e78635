#!/usr/bin/env node
// Copies the non-TypeScript files the program reads at run time (SQL migrations, proto files) into dist/.
import { cpSync, existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ASSET = /\.(sql|proto)$/;

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (ASSET.test(name)) yield p;
  }
}

const src = join(root, "src");
let n = 0;
for (const file of walk(src)) {
  cpSync(file, join(root, "dist", relative(src, file)));
  n++;
}
// The dashboard bundle: replaced whole, so hashed files of an earlier build do not pile up.
rmSync(join(root, "dist", "web"), { recursive: true, force: true });
if (existsSync(join(root, "web", "dist")))
  cpSync(join(root, "web", "dist"), join(root, "dist", "web"), { recursive: true });
console.log(`copied ${n} assets`);
