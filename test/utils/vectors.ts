import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (this file is test/utils/vectors.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Shared vectors live beside the project, never copied into it. */
export const VECTORS_DIR = process.env.SLASHGUARD_VECTORS ?? resolve(REPO_ROOT, "../shared/vectors");
export const SPECS_DIR = resolve(VECTORS_DIR, "../specs");

/** Every *.json of a vector folder; throws when the folder is missing or empty so a spec run never passes vacuously. */
export function loadVectorFiles<T>(sub: string): { name: string; data: T }[] {
  const dir = join(VECTORS_DIR, sub);
  if (!existsSync(dir))
    throw new Error(`vector folder ${dir} is missing (expected ../shared/vectors beside the project)`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new Error(`vector folder ${dir} holds no .json files`);
  return files.map((f) => ({
    name: f.replace(/\.json$/, ""),
    data: JSON.parse(readFileSync(join(dir, f), "utf8")) as T,
  }));
}

export function loadVector<T>(rel: string): T {
  const file = join(VECTORS_DIR, rel);
  if (!existsSync(file)) throw new Error(`vector file ${file} is missing`);
  return JSON.parse(readFileSync(file, "utf8")) as T;
}
