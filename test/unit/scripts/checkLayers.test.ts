import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const SCRIPT = join(import.meta.dirname, "../../../scripts/checkLayers.mjs");

/** Runs the layer check on a small tree of files (path -> text). */
function check(files: Record<string, string>): { status: number | null; out: string } {
  const root = mkdtempSync(join(tmpdir(), "layers-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const r = spawnSync(process.execPath, [SCRIPT, root], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}
const roots: string[] = [];

describe("scripts/checkLayers.mjs, the stricter rules", () => {
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  const clean = {
    "src/store/errors.ts": "export const E = 1;\n",
    "src/store/types.ts": "export interface Store {}\n",
    "src/store/fleet/hostsRepository.ts": "export const hostsRepository = {};\n",
    "src/store/index.ts": 'export { hostsRepository } from "./fleet/hostsRepository.js";\n',
    "src/fleet/fleetQueries.ts": 'import { hostsRepository } from "../store/index.js";\n',
    "src/fleet/index.ts": 'export * from "./fleetQueries.js";\n',
    "src/schemas/alerts.ts": 'import { Type } from "typebox";\n',
    "src/http/routes/a.ts":
      'import { E } from "../../store/errors.js";\nimport type { Store } from "../../store/types.js";\nimport "../../fleet/index.js";\n',
    "web/src/api/types.ts": 'export type { Alert } from "../../../src/schemas/alerts.js";\n',
  };

  it("passes a tree that keeps them", () => {
    const r = check(clean);
    expect(r.status, r.out).toBe(0);
  });

  it("refuses a transport importing a repository, web/ importing src/ or Node, and schemas/ importing Node", () => {
    const r = check({
      ...clean,
      "src/grpc/b.ts": 'import { hostsRepository } from "../store/fleet/hostsRepository.js";\n',
      "web/src/c.ts": 'import { x } from "../../src/util/hex.js";\nimport { readFileSync } from "node:fs";\n',
      "src/schemas/d.ts": 'import { readFileSync } from "node:fs";\n',
      "src/util/hex.ts": "export const x = 1;\n",
    });
    expect(r.status).toBe(1);
    expect(r.out).toContain("src/grpc/b.ts: transport grpc must not import the store");
    expect(r.out).toContain("web/src/c.ts: web/ must not import ../../src/util/hex.js");
    expect(r.out).toContain("web/src/c.ts: web/ must not import a Node built-in");
    expect(r.out).toContain("src/schemas/d.ts: src/schemas/ is shared with web/");
  });

  it("refuses a deep import into another folder, and lets a lazy dynamic import name a file", () => {
    const r = check({
      ...clean,
      "src/alerts/e.ts": 'import { hostsRepository } from "../store/fleet/hostsRepository.js";\n',
      "src/alerts/f.ts": 'export const q = () => import("../fleet/fleetQueries.js");\n',
    });
    expect(r.status).toBe(1);
    expect(r.out).toContain("src/alerts/e.ts: deep import ../store/fleet/hostsRepository.js into store/");
    expect(r.out).not.toContain("src/alerts/f.ts");
  });
});
