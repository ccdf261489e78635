import fc from "fast-check";
import { afterAll, describe, it } from "vitest";
import { type Engine, HAS_PG, markPostgresSkipped } from "../../utils/stores.js";
import { modelConfig, RunStats } from "./config.js";
import { dropPooledDatabases } from "./worlds.js";

/**
 * Declares one model-based suite per store engine: `runs` random command sequences (fast-check, shrunk
 * on failure) against the real engine on SQLite and, when reachable, PostgreSQL. Prints the seed, the
 * runs and the commands executed.
 */
export function modelSuite<C>(
  chain: string,
  commands: (maxCommands: number) => fc.Arbitrary<C[]>,
  run: (engine: Engine, cmds: readonly C[], stats: RunStats) => Promise<void>,
  defaultRuns: number,
): void {
  const cfg = modelConfig(defaultRuns);
  describe(`model: ${chain}`, () => {
    markPostgresSkipped(`model ${chain}`);
    afterAll(dropPooledDatabases);
    for (const engine of ["sqlite", "postgres"] as const) {
      if (engine === "postgres" && !HAS_PG) continue;
      it(`${chain} engine on ${engine} agrees with the reference model`, async () => {
        const stats = new RunStats();
        console.log(
          `[model ${chain}/${engine}] seed=${cfg.seed} runs=${cfg.runs} max-commands=${cfg.maxCommands} (replay: SLASHGUARD_MODEL_SEED=${cfg.seed} SLASHGUARD_MODEL_RUNS=${cfg.runs})`,
        );
        try {
          await fc.assert(
            fc.asyncProperty(commands(cfg.maxCommands), async (cmds) => {
              stats.runs++;
              await run(engine, cmds, stats);
              // long runs by hand show progress (CI runs stay quiet)
              if (cfg.runs > 100 && stats.runs % 100 === 0)
                console.log(`[model ${chain}/${engine}] ${stats.summary()}`);
            }),
            { numRuns: cfg.runs, seed: cfg.seed },
          );
        } finally {
          console.log(`[model ${chain}/${engine}] seed=${cfg.seed} ${stats.summary()}`);
        }
      });
    }
  });
}
