import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * The module `./name.js` next to `base` (an import.meta.url): its `.ts` source when the caller itself runs
 * from TypeScript sources (tests, tsx), else the built `.js`. The one place that works out a worker path.
 */
export function workerModuleUrl(base: string, file: string): URL {
  return new URL(base.endsWith(".ts") ? file.replace(/\.js$/, ".ts") : file, base);
}

/**
 * Starts a worker thread running an ES module given as `./name.js` next to `base` (an import.meta.url).
 * When the caller itself runs from TypeScript sources (tests, tsx), the worker gets the same TypeScript
 * loader and the `.ts` file, so one code path serves the built program and the test suite.
 */
export function startModuleWorker(base: string, file: string, opts: WorkerOptions = {}): Worker {
  const module = workerModuleUrl(base, file);
  if (!base.endsWith(".ts")) return new Worker(module, opts);
  const target = module.href;
  // the require() resolution names the CommonJS build; the ES module build sits beside it
  const tsx = pathToFileURL(
    createRequire(base)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  ).href;
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), opts);
}
