import { spawn } from "node:child_process";
import type { Logger } from "../../util/logger.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";
import type { Monotonic } from "../monotonic.js";

/** Starts, stops and probes the local CometBFT node (systemd units by default, any command by config). */
export interface NodeControl {
  /**
   * Starts the node. When `signal` aborts (the lease was lost meanwhile) the start command is killed and
   * the call rejects; the caller stops the node at once, without waiting for the start.
   */
  start(signal?: AbortSignal): Promise<void>;
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
  /** Time limit of the kill command (default: stopTimeoutMs). */
  killTimeoutMs?: number;
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

/**
 * Longest time `stop()` can take before it answers: the stop command's wait, and with a kill command the
 * kill's own limit and a second wait. Announced to successors through the lease (they wait this long past
 * its end before counting an unreachable holder's node as stopped) and checked against the config.
 */
export function stopBoundMs(o: { stopTimeoutMs: number; killCommand?: string; killTimeoutMs?: number }): number {
  if (o.killCommand === undefined) return o.stopTimeoutMs;
  return o.stopTimeoutMs + (o.killTimeoutMs ?? o.stopTimeoutMs) + o.stopTimeoutMs;
}

/** Runs `sh -c command` in its own process group, killed as a whole on timeout or when `signal` aborts. */
export function runCommand(command: string, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    const keep = (d: Buffer): void => {
      if (output.length < 2000) output += d.toString();
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = (): void => {
      timedOut = true;
      killGroup();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    const finish = (r: CommandResult): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(r);
    };
    child.on("error", (e) => finish({ exitCode: null, signal: null, timedOut, output: e.message }));
    child.on("close", (exitCode, sig) =>
      finish({ exitCode, signal: sig, timedOut, output: output.trim().slice(0, 500) }),
    );
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

  async start(signal?: AbortSignal): Promise<void> {
    const r = await runCommand(this.opts.startCommand, this.opts.commandTimeoutMs, signal);
    if (r.exitCode !== 0 || signal?.aborted) throw commandError(this.opts.startCommand, r);
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
      const k = await runCommand(this.opts.killCommand, this.opts.killTimeoutMs ?? this.opts.stopTimeoutMs);
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
