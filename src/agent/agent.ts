import { type AgentReportWire, REPORT_VERSION } from "../fleet/index.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { Collector } from "./collectors/collector.js";
import { Reporter, type ReporterOptions } from "./reporter.js";

export interface AgentOptions {
  hostName: string;
  intervalMs: number;
  agentVersion: string;
  reporter: ReporterOptions;
}

export interface AgentModules {
  collectors: readonly Collector[];
  logger: Logger;
  clock: Clock;
}

/** Collects every source each interval and hands the report to the reporter (which never blocks this loop). */
export class Agent {
  private readonly reporter: Reporter;
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly opts: AgentOptions,
    private readonly modules: AgentModules,
  ) {
    this.reporter = new Reporter(opts.reporter, { logger: modules.logger, clock: modules.clock });
  }

  /** One report of every source, now (public data only). */
  async collect(): Promise<AgentReportWire> {
    const observedAt = this.modules.clock.nowMs();
    const parts = await Promise.all(this.modules.collectors.map((c) => c.collect()));
    return {
      version: REPORT_VERSION,
      host: this.opts.hostName,
      agent_version: this.opts.agentVersion,
      interval_ms: this.opts.intervalMs,
      observed_at: observedAt,
      sources: parts.map((p) => p.source),
      keys: parts.flatMap((p) => p.keys),
    };
  }

  start(): void {
    this.reporter.start();
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.loop;
    await this.reporter.stop();
  }

  get stats(): { queued: number; sent: number; dropped: number } {
    return { queued: this.reporter.queued, sent: this.reporter.sent, dropped: this.reporter.dropped };
  }

  private async run(): Promise<void> {
    const signal = this.stopCtl.signal;
    while (!signal.aborted) {
      const started = this.modules.clock.nowMs();
      try {
        const r = await this.collect();
        for (const s of r.sources)
          if (!s.reachable) this.modules.logger.warn("Node unreachable", { source: s.id, error: s.error ?? undefined });
        this.reporter.enqueue(r);
      } catch (e) {
        this.modules.logger.error("Collecting failed", {}, e);
      }
      const wait = Math.max(0, this.opts.intervalMs - (this.modules.clock.nowMs() - started));
      await this.modules.clock.sleep(wait, signal).catch(() => {});
    }
  }
}
