/**
 * Run settings of the model-based suites. CI runs a bounded number of random command sequences; by hand,
 * `npm run test:model -- --runs N [--seed S] [--commands C]` (or SLASHGUARD_MODEL_RUNS / _SEED / _COMMANDS)
 * runs more. Every suite prints its seed, runs and the commands executed, so a failure is replayable.
 */
export interface ModelConfig {
  runs: number;
  seed: number;
  /** Most commands in one generated sequence. */
  maxCommands: number;
}

function intEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

export function modelConfig(defaultRuns: number): ModelConfig {
  return {
    runs: intEnv("SLASHGUARD_MODEL_RUNS") ?? defaultRuns,
    seed: intEnv("SLASHGUARD_MODEL_SEED") ?? (Date.now() ^ (process.pid << 8)) | 0,
    maxCommands: intEnv("SLASHGUARD_MODEL_COMMANDS") ?? 40,
  };
}

/** Counts what one suite executed, for the printed summary. */
export class RunStats {
  commands = 0;
  requests = 0;
  allowed = 0;
  refused = 0;
  faults = 0;
  runs = 0;
  private readonly started = performance.now();

  summary(): string {
    const s = ((performance.now() - this.started) / 1000).toFixed(1);
    return `runs=${this.runs} commands=${this.commands} requests=${this.requests} allowed=${this.allowed} refused=${this.refused} injected-faults=${this.faults} in ${s}s`;
  }
}
