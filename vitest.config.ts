import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["test/utils/generatedCode.ts"],
    // Vitest's default (one worker fewer than the cores) is a single worker on a 2-core CI machine, which
    // runs every file one after the other. Two let the unit, web, spec and model files share the cores;
    // security and e2e keep one file at a time (fileParallelism: false), as their real processes need.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          pool: "threads",
          testTimeout: 30_000,
        },
      },
      {
        // The dashboard (web/): its worker logic and components, in a simulated DOM.
        plugins: [react()],
        test: {
          name: "web",
          include: ["test/web/**/*.test.{ts,tsx}"],
          environment: "happy-dom",
          pool: "threads",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "spec",
          include: ["test/spec/**/*.test.ts"],
          pool: "forks",
          testTimeout: 120_000,
        },
      },
      {
        // Model-based tests: each engine against a small reference model with random command sequences
        // (fast-check), and failover under random fault schedules with an injected clock.
        test: {
          name: "model",
          include: ["test/model/**/*.test.ts"],
          pool: "forks",
          testTimeout: 600_000,
        },
      },
      {
        // The security probe: regression tests of the findings and bounded fuzzing of every route and decoder
        // against real processes from dist/.
        test: {
          name: "security",
          include: ["test/security/**/*.test.ts"],
          pool: "forks",
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          pool: "forks",
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
