import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { it, type TestContext } from "vitest";

/** The project root (this file is test/utils/vectors.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Shared vectors live beside the project, never copied into it: $SLASHGUARD_VECTORS, else ../shared/vectors. */
export const VECTORS_DIR = process.env.SLASHGUARD_VECTORS ?? resolve(REPO_ROOT, "../shared/vectors");
/** Protocol files the tests compare against (OpenAPI, the proposal's .proto, the interchange schema). */
export const SPECS_DIR = process.env.SLASHGUARD_SPECS ?? resolve(VECTORS_DIR, "../specs");
/** CI sets it: a missing vector or spec path then fails the test file instead of skipping it. */
export const REQUIRE_VECTORS = process.env.SLASHGUARD_REQUIRE_VECTORS === "1";

/** Paths a test reads: `vectors` relative to VECTORS_DIR, `specs` relative to SPECS_DIR. */
export interface VectorNeeds {
  vectors?: readonly string[];
  specs?: readonly string[];
}

const warned = new Set<string>();

/**
 * Why the needed vector or spec paths cannot be read (null when they all exist). A missing path is
 * reported once per test file on stderr; with SLASHGUARD_REQUIRE_VECTORS=1 it throws instead, so CI
 * can never skip the vector tests.
 */
export function vectorsMissing(needs: VectorNeeds): string | null {
  const absent = [
    ...(needs.vectors ?? []).map((p) => join(VECTORS_DIR, p)),
    ...(needs.specs ?? []).map((p) => join(SPECS_DIR, p)),
  ].filter((p) => !existsSync(p));
  if (absent.length === 0) return null;
  const reason =
    `needs ${absent.join(", ")}, which is missing: set SLASHGUARD_VECTORS (and SLASHGUARD_SPECS) or put ` +
    "the shared vectors beside the project as ../shared; test/VECTORS.md says where to get them";
  if (REQUIRE_VECTORS) throw new Error(`SLASHGUARD_REQUIRE_VECTORS=1 and this test ${reason}`);
  if (!warned.has(reason)) {
    warned.add(reason);
    console.warn(`vector tests SKIPPED: ${reason}`);
  }
  return reason;
}

/**
 * Registers `suite`'s tests (via `register`) when every needed path exists; otherwise one skipped test
 * whose name gives the reason (so the whole file is reported skipped, never passed and never failed).
 */
export function withVectors(suite: string, needs: VectorNeeds, register: () => void): void {
  const missing = vectorsMissing(needs);
  if (missing === null) register();
  else it.skip(`${suite}: SKIPPED, ${missing}`, () => {});
}

/** For one test among others that run without vectors: skips it, with the reason, when a path is missing. */
export function skipWithoutVectors(ctx: TestContext, needs: VectorNeeds): void {
  const missing = vectorsMissing(needs);
  if (missing !== null) ctx.skip(missing);
}

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
