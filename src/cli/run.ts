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

/** Exit code of a process stopped by a signal during start-up (the shell's 128 + signal number). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs a long-running command until SIGINT or SIGTERM, then stops it cleanly. The handlers are in
 * place before `start` runs: a signal sent right after the "listening" line (a supervisor, a test)
 * must reach the clean stop, not the default action that kills the process with its log unflushed.
 * A signal during start-up exits at once, as the default action would: a start bound by scrypt may
 * take minutes, and nothing is released before start-up ends (the store's records are transactional).
 * `start` returning null means there is nothing left running.
 */
export async function runUntilSignal<T>(
  start: () => Promise<T | null>,
  stop: (running: T) => Promise<void>,
): Promise<void> {
  let started = false;
  const signal = shutdownSignal();
  void signal.then((sig) => {
    if (started) return;
    process.stderr.write(`slashguard: ${sig} during start-up, exiting\n`);
    process.exit(SIGNAL_EXIT[sig] ?? EXIT_FAILURE);
  });
  const running = await start();
  started = true;
  if (running === null) return; // a one-shot run (e.g. failover --request-handover) is done
  await signal;
  await stop(running);
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
