import type { Logger } from "../util/logger.js";
import type { RefusalReason } from "./errors.js";
import type { FailoverEvent, FailoverEvents } from "./events.js";
import type { HealthReport } from "./health.js";
import { type FailoverMetrics, ROLES } from "./metrics.js";
import type { Monotonic } from "./monotonic.js";
import type { Role } from "./status.js";

/** Warnings that would repeat every tick are logged at most this often. */
const REPEAT_WARN_MS = 30_000;

/** Where the daemon reports: events (to the injected sink), metrics, and rate-limited warnings. */
export class DaemonReporter {
  lastEvent: FailoverEvent | null = null;
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly node: string,
    private readonly m: { events: FailoverEvents; metrics: FailoverMetrics | null; logger: Logger; clock: Monotonic },
  ) {}

  /** Delivery never fails the failover: a broken sink is logged. */
  emit(e: FailoverEvent): void {
    this.lastEvent = e;
    this.m.metrics?.events.inc({ kind: e.kind });
    try {
      this.m.events.emit(e);
    } catch (err) {
      this.m.logger.error("Failover event sink failed", { kind: e.kind }, err);
    }
  }

  /** A promotion that did not happen: an event, or (quiet: expected now and then) a rate-limited warning. */
  refusal(reason: RefusalReason, detail: string, quiet: boolean): void {
    this.m.metrics?.refusals.inc({ reason });
    if (quiet) this.warnOnce(`refused-${reason}`, "Promotion not possible now", { reason, detail });
    else this.emit({ kind: "promotion_refused", node: this.node, reason, detail });
  }

  warnOnce(key: string, message: string, context: Record<string, unknown>, error?: unknown): void {
    const now = this.m.clock.now();
    const last = this.warnedAt.get(key);
    if (last !== undefined && now - last < REPEAT_WARN_MS) return;
    this.warnedAt.set(key, now);
    this.m.logger.warn(message, context, error);
  }

  role(role: Role): void {
    const mt = this.m.metrics;
    if (mt !== null) for (const r of ROLES) mt.role.set({ role: r }, r === role ? 1 : 0);
  }

  health(
    report: HealthReport,
    s: { healthy: boolean; epoch: bigint | null; lastSigned: bigint | null; msToSelfStop: number | null },
  ): void {
    const mt = this.m.metrics;
    if (mt === null) return;
    mt.healthy.set(s.healthy ? 1 : 0);
    for (const c of report.checks) mt.check.set({ check: c.name }, c.ok ? 1 : 0);
    if (s.epoch !== null) mt.epoch.set(Number(s.epoch));
    if (s.lastSigned !== null) mt.lastSignedHeight.set(Number(s.lastSigned));
    mt.selfStopMargin.set(s.msToSelfStop === null ? 0 : Math.max(0, s.msToSelfStop / 1000));
  }
}
