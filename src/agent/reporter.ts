import type { AgentReportWire } from "../fleet/index.js";
import type { Clock } from "../util/clock.js";
import { HttpClient, type HttpResponse, limitsFor } from "../util/httpClient.js";
import type { Logger } from "../util/logger.js";
import { parseRetryAfterMs } from "../util/retryAfter.js";

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

/** "retry" may carry the monitor's own back-off (429/503 Retry-After). */
type Outcome = "sent" | "drop" | { retryAfterMs: number | null };

/** The monitor answers `{code, message}`: anything longer is not worth holding. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** A Retry-After beyond this is capped (a confused monitor cannot park the agent for a day). */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

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
  private readonly http: HttpClient;
  dropped = 0;
  sent = 0;

  constructor(
    private readonly opts: ReporterOptions,
    private readonly modules: ReporterModules,
  ) {
    this.http = new HttpClient(limitsFor(opts.timeoutMs, MAX_ANSWER_BYTES));
  }

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
      if (outcome === "sent" || outcome === "drop") {
        if (this.queue[0] === next) this.queue.shift();
        this.failures = 0;
        continue;
      }
      this.failures++;
      const backoff = Math.min(
        this.opts.maxBackoffMs,
        this.opts.initialBackoffMs * 2 ** Math.min(20, this.failures - 1),
      );
      // The monitor's Retry-After, when it gave one, is the least we wait (it rate-limits per host).
      const wait = Math.max(
        Math.round(backoff * (0.75 + Math.random() * 0.5)),
        Math.min(MAX_RETRY_AFTER_MS, outcome.retryAfterMs ?? 0),
      );
      await this.modules.clock.sleep(wait, signal).catch(() => {});
    }
  }

  private async send(r: AgentReportWire): Promise<Outcome> {
    let res: HttpResponse;
    try {
      res = await this.http.request({
        url: `${this.opts.monitorUrl.replace(/\/+$/, "")}/api/v1/agent/reports`,
        method: "POST",
        headers: { authorization: `Bearer ${this.opts.token}` },
        json: r,
        signal: this.stopCtl.signal,
      });
    } catch (e) {
      if (!this.stopCtl.signal.aborted)
        this.modules.logger.warn(
          "Monitor unreachable; report queued",
          { queued: this.queue.length, failures: this.failures + 1 },
          e,
        );
      return { retryAfterMs: null };
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
    const retryAfterMs = parseRetryAfterMs(headerValue(res.headers["retry-after"]), this.modules.clock.nowMs());
    const level = res.status === 401 || res.status === 403 ? "error" : "warn";
    this.modules.logger[level]("Monitor did not accept the report; will retry", {
      status: res.status,
      queued: this.queue.length,
      ...(retryAfterMs === null ? {} : { retryAfterMs }),
    });
    return { retryAfterMs };
  }
}

function headerValue(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
}
