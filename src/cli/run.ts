import { isAppError } from "../util/errors.js";

/** Exit codes: 0 ok, 1 refused or failed (a one-line reason on stderr), 2 bad usage. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Prints one line `slashguard: CODE: reason` and exits non-zero. Never prints secrets or stacks by default. */
export function exitWithError(e: unknown): never {
  const line = isAppError(e)
    ? `${e.code}: ${stripCode(e.message, e.code)}`
    : e instanceof Error
      ? e.message
      : String(e);
  process.stderr.write(`slashguard: ${oneLine(line)}\n`);
  if (process.env.SLASHGUARD_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(EXIT_FAILURE);
}

function stripCode(message: string, code: string): string {
  return message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

/** Resolves when SIGINT or SIGTERM arrives (long-running commands shut down cleanly on it). */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(sig);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}
