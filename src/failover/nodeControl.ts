import { spawn } from "node:child_process";
import type { Logger } from "../util/logger.js";
import { FailoverError, FailoverErrorCode } from "./errors.js";
import type { Monotonic } from "./monotonic.js";

/** Starts, stops and probes the local CometBFT node (systemd units by default, any command by config). */
export interface NodeControl {
  start(): Promise<void>;
  /** Stops the node and returns only once it is confirmed stopped; throws ERR_FAILOVER_NODE_STOP_FAILED otherwise. */
  stop(): Promise<void>;
  /** true running, false stopped; throws when the probe itself fails (unknown is never "stopped"). */
  isRunning(): Promise<boolean>;
}

export interface CommandNodeControlOptions {
  startCommand: string;
  stopCommand: string;
  /** Exit 0: running; 1-125: not running (systemctl is-active answers 3); anything else: unknown. */
  isRunningCommand: string;
  /** Run when the stop command has not stopped the node within stopTimeoutMs (e.g. systemctl kill -s KILL). */
  killCommand?: string;
  stopTimeoutMs: number;
  commandTimeoutMs: number;
  pollMs: number;
}

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  output: string;
}

/** Runs `sh -c command` in its own process group, killed as a whole on timeout. */
export function runCommand(command: string, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    const keep = (d: Buffer): void => {
      if (output.length < 2000) output += d.toString();
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ exitCode: null, signal: null, timedOut, output: e.message });
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, output: output.trim().slice(0, 500) });
    });
  });
}

function commandError(command: string, r: CommandResult): FailoverError {
  return new FailoverError(
    { code: FailoverErrorCode.NodeCommand, command, exitCode: r.exitCode, signal: r.timedOut ? "timeout" : r.signal },
    `node command failed (${r.timedOut ? "timed out" : `exit ${r.exitCode ?? r.signal}`}): ${command}${r.output ? `: ${r.output}` : ""}`,
  );
}

export class CommandNodeControl implements NodeControl {
  constructor(
    private readonly opts: CommandNodeControlOptions,
    private readonly m: { logger: Logger; clock: Monotonic; sleep: (ms: number) => Promise<void> },
  ) {}

  async start(): Promise<void> {
    const r = await runCommand(this.opts.startCommand, this.opts.commandTimeoutMs);
    if (r.exitCode !== 0) throw commandError(this.opts.startCommand, r);
  }

  async isRunning(): Promise<boolean> {
    const r = await runCommand(this.opts.isRunningCommand, this.opts.commandTimeoutMs);
    if (r.exitCode === 0) return true;
    if (r.exitCode !== null && r.exitCode >= 1 && r.exitCode <= 125 && !r.timedOut) return false;
    throw commandError(this.opts.isRunningCommand, r);
  }

  async stop(): Promise<void> {
    const started = this.m.clock.now();
    const r = await runCommand(this.opts.stopCommand, this.opts.stopTimeoutMs);
    if (r.exitCode !== 0) this.m.logger.warn("Node stop command failed", { command: this.opts.stopCommand, ...r });
    if (await this.waitStopped(started + this.opts.stopTimeoutMs)) return;
    if (this.opts.killCommand !== undefined) {
      this.m.logger.warn("Node still running after the stop timeout; killing it", { command: this.opts.killCommand });
      const k = await runCommand(this.opts.killCommand, this.opts.commandTimeoutMs);
      if (k.exitCode !== 0) this.m.logger.warn("Node kill command failed", { command: this.opts.killCommand, ...k });
      if (await this.waitStopped(this.m.clock.now() + this.opts.stopTimeoutMs)) return;
    }
    throw new FailoverError(
      { code: FailoverErrorCode.NodeStopFailed, waitedMs: Math.round(this.m.clock.now() - started) },
      "the node is still running (or its state is unknown) after the stop command",
    );
  }

  /** Polls isRunning until false or the deadline; an unknown answer counts as running. */
  private async waitStopped(deadline: number): Promise<boolean> {
    for (;;) {
      try {
        if (!(await this.isRunning())) return true;
      } catch (e) {
        this.m.logger.warn("Node probe failed", {}, e);
      }
      if (this.m.clock.now() >= deadline) return false;
      await this.m.sleep(this.opts.pollMs);
    }
  }
}
