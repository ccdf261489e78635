import type { AgentReportWire } from "../fleet/reportFormat.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";

export interface ReporterOptions {
  monitorUrl: string;
  token: string;
  /** Reports kept while the monitor is down; the oldest is dropped first. */
  maxQueue: number;
  timeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface ReporterModules {
  logger: Logger;
  clock: Clock;
}

type Outcome = "sent" | "retry" | "drop";

/**
 * Sends reports in order, oldest first, with the agent's bearer token. While the monitor is down it
 * keeps a bounded queue and retries with exponential back-off; a report the monitor refuses as
 * malformed (400/413) is dropped, since sending it again cannot succeed.
 */
export class Reporter {
  private readonly queue: AgentReportWire[] = [];
  private readonly stopCtl = new AbortController();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private failures = 0;
  dropped = 0;
  sent = 0;

  constructor(
    private readonly opts: ReporterOptions,
    private readonly modules: ReporterModules,
  ) {}

  enqueue(r: AgentReportWire): void {
    if (this.queue.length >= this.opts.maxQueue) {
      this.queue.shift();
      this.dropped++;
      this.modules.logger.warn("Report queue full; dropped the oldest report", { queued: this.queue.length });
    }
    this.queue.push(r);
    this.wake?.();
  }

  get queued(): number {
    return this.queue.length;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.stopCtl.signal;
    while (!signal.aborted) {
      const next = this.queue[0];
      if (next === undefined) {
        await new Promise<void>((r) => {
          this.wake = r;
        });
        this.wake = null;
        continue;
      }
      const outcome = await this.send(next);
      if (outcome !== "retry") {
        if (this.queue[0] === next) this.queue.shift();
        this.failures = 0;
        continue;
      }
      this.failures++;
      const backoff = Math.min(
        this.opts.maxBackoffMs,
        this.opts.initialBackoffMs * 2 ** Math.min(20, this.failures - 1),
      );
      await this.modules.clock.sleep(Math.round(backoff * (0.75 + Math.random() * 0.5)), signal).catch(() => {});
    }
  }

  private async send(r: AgentReportWire): Promise<Outcome> {
    let res: Response;
    try {
      res = await fetch(`${this.opts.monitorUrl.replace(/\/+$/, "")}/api/v1/agent/reports`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.opts.token}` },
        body: JSON.stringify(r),
        signal: AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), this.stopCtl.signal]),
      });
      await res.arrayBuffer();
    } catch (e) {
      if (!this.stopCtl.signal.aborted)
        this.modules.logger.warn(
          "Monitor unreachable; report queued",
          { queued: this.queue.length, failures: this.failures + 1 },
          e,
        );
      return "retry";
    }
    if (res.status >= 200 && res.status < 300) {
      this.sent++;
      if (this.failures > 0) this.modules.logger.info("Monitor reachable again", { queued: this.queue.length - 1 });
      return "sent";
    }
    if (res.status === 400 || res.status === 413 || res.status === 415) {
      this.dropped++;
      this.modules.logger.error("Monitor refused a report as malformed; dropped it", { status: res.status });
      return "drop";
    }
    const level = res.status === 401 || res.status === 403 ? "error" : "warn";
    this.modules.logger[level]("Monitor did not accept the report; will retry", {
      status: res.status,
      queued: this.queue.length,
    });
    return "retry";
  }
}
