import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FailoverErrorCode } from "../../../../src/failover/errors.js";
import { monotonic } from "../../../../src/failover/monotonic.js";
import { CommandNodeControl, runCommand } from "../../../../src/failover/node/nodeControl.js";
import { nullLogger } from "../../../../src/util/logger.js";
import { tempDir } from "../../../utils/stores.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A "node" that is a flag file: running while it exists. */
function control(dir: string, over: Partial<ConstructorParameters<typeof CommandNodeControl>[0]> = {}) {
  const f = join(dir, "running");
  return new CommandNodeControl(
    {
      startCommand: `touch ${f}`,
      stopCommand: `rm -f ${f}`,
      isRunningCommand: `test -e ${f} || exit 3`,
      stopTimeoutMs: 500,
      commandTimeoutMs: 2000,
      pollMs: 20,
      ...over,
    },
    { logger: nullLogger, clock: monotonic, sleep },
  );
}

describe("node control through commands", () => {
  it("starts, probes and stops (exit 0 running, 1-125 stopped)", async () => {
    const t = tempDir("sg-node-");
    try {
      const n = control(t.dir);
      expect(await n.isRunning()).toBe(false);
      await n.start();
      expect(await n.isRunning()).toBe(true);
      await n.stop();
      expect(await n.isRunning()).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it.each([
    ["a missing command (127)", "definitely-not-a-command-xyz"],
    ["a probe that hangs", "sleep 5"],
    ["a probe killed by a signal", "kill -9 $$"],
  ])("an unknown answer is never 'stopped': %s throws", async (_n, cmd) => {
    const t = tempDir("sg-node-");
    try {
      const n = control(t.dir, { isRunningCommand: cmd, commandTimeoutMs: 300 });
      await expect(n.isRunning()).rejects.toMatchObject({ code: FailoverErrorCode.NodeCommand });
    } finally {
      t.cleanup();
    }
  });

  it("a node that ignores the stop command is killed with the kill command", async () => {
    const t = tempDir("sg-node-");
    try {
      const n = control(t.dir, { stopCommand: "true", killCommand: `rm -f ${join(t.dir, "running")}` });
      await n.start();
      await n.stop();
      expect(existsSync(join(t.dir, "running"))).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it("a node that does not stop at all is reported, never assumed stopped", async () => {
    const t = tempDir("sg-node-");
    try {
      const n = control(t.dir, { stopCommand: "true", stopTimeoutMs: 200 });
      await n.start();
      await expect(n.stop()).rejects.toMatchObject({ code: FailoverErrorCode.NodeStopFailed });
      expect(await n.isRunning()).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it("a failed start is an error with the command's output", async () => {
    const t = tempDir("sg-node-");
    try {
      writeFileSync(join(t.dir, "x"), "");
      const n = control(t.dir, { startCommand: "echo no such unit >&2; exit 5" });
      await expect(n.start()).rejects.toMatchObject({ code: FailoverErrorCode.NodeCommand, type: { exitCode: 5 } });
      expect((await runCommand("echo hi", 1000)).output).toBe("hi");
    } finally {
      t.cleanup();
    }
  });

  it("issue 14 defect 1: an aborted start kills the start command at once and rejects", async () => {
    const t = tempDir("sg-node-");
    try {
      const marker = join(t.dir, "late");
      const n = control(t.dir, { startCommand: `sleep 5; touch ${marker}`, commandTimeoutMs: 10_000 });
      const ac = new AbortController();
      const started = n.start(ac.signal);
      ac.abort();
      await expect(started).rejects.toMatchObject({ code: FailoverErrorCode.NodeCommand });
      expect(existsSync(marker)).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});
