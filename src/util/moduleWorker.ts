import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * Starts a worker thread running an ES module given as `./name.js` next to `base` (an import.meta.url).
 * When the caller itself runs from TypeScript sources (tests, tsx), the worker gets the same TypeScript
 * loader and the `.ts` file, so one code path serves the built program and the test suite.
 */
export function startModuleWorker(base: string, file: string, opts: WorkerOptions = {}): Worker {
  if (!base.endsWith(".ts")) return new Worker(new URL(file, base), opts);
  const target = new URL(file.replace(/\.js$/, ".ts"), base).href;
  // the require() resolution names the CommonJS build; the ES module build sits beside it
  const tsx = pathToFileURL(
    createRequire(base)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  ).href;
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), opts);
}
