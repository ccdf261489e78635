#!/usr/bin/env node
import { buildProgram } from "./program.js";
import { exitWithError } from "./run.js";

buildProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => exitWithError(e));
