import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * Vitest global setup: the gRPC message types are generated from the .proto (`npm run gen:proto`, not
 * committed). `npm ci`, `npm run build` and `npm test` generate them; a bare `npx vitest` in a fresh clone
 * would not, so generate them here when they are missing.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, "..", "..");
  if (existsSync(join(root, "src", "grpc", "generated"))) return;
  execFileSync("npm", ["run", "-s", "gen:proto"], { cwd: root, stdio: "inherit" });
}
