import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where the built dashboard is: dist/web in the package (this file runs as dist/cli/monitor/), or
 * web/dist of a source checkout (run from src/ with tsx). The first that holds an index.html wins.
 */
export function defaultDashboardDir(): string {
  const candidates = [new URL("../../web/", import.meta.url), new URL("../../../web/dist/", import.meta.url)].map((u) =>
    fileURLToPath(u),
  );
  return candidates.find((d) => existsSync(`${d}index.html`)) ?? candidates[0]!;
}
