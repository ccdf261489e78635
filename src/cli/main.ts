#!/usr/bin/env node
// Node's ESM loader opens every file it discovers in a module graph at once, and the program is one wide
// graph (about 450 files plus packages): under a low descriptor limit (`ulimit -n 256`) loading it in one go
// fails with EMFILE before the first line runs. Loading the folders' public faces layer by layer bounds the
// peak to one layer's width; the imports below then find those modules cached.
const FACES_BY_LAYER = [
  "store",
  "keys",
  "chains/ethereum",
  "chains/cometbft",
  "chains/substrate",
  "chains/harmony",
  "protection",
  "detect",
  "fleet",
  "alerts",
  "failover",
  "events",
  "signer",
  "monitor",
  "http",
  "privval",
  "grpc",
  "cluster",
  "agent",
];
for (const face of FACES_BY_LAYER) await import(`../${face}/index.js`);

const { buildProgram } = await import("./program.js");
const { exitWithError } = await import("./run.js");

buildProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => exitWithError(e));
