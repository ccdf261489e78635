import type { AlertMetrics, AlertService } from "../alerts/index.js";
import type { FleetDetector } from "../detect/index.js";
import { FLEET_KINDS, type HostState, loadSweepInput } from "../detect/index.js";
import type { Store } from "../store/index.js";
import { notificationsRepository, sweepRepository } from "../store/index.js";
import type { Logger } from "../util/logger.js";

export interface SweepLoopOptions {
  /** How often a pass runs; monitors sharing a store claim passes, so one runs per interval. */
  intervalMs: number;
  keyMovedWindowMs: number;
  now: () => number;
}

export interface SweepLoopModules {
  store: Store;
  detector: FleetDetector;
  alerts: AlertService;
  metrics: AlertMetrics;
  logger: Logger;
}

/**
 * The full detection pass on a timer: claim the pass in the store, read every key group and host,
 * run the fleet rules, and reconcile the fleet alerts (open what holds, resolve what stopped).
 */
export class SweepLoop {
  /** Silence counts from here: before it this monitor could not hear any agent. */
  private readonly startedAt: number;
  private sweeping: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: SweepLoopOptions,
    private readonly modules: SweepLoopModules,
  ) {
    this.startedAt = opts.now();
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.sweeping === null)
        this.sweep(false).catch((e) => this.modules.logger.error("Detection pass failed", {}, e));
    }, this.opts.intervalMs);
  }

  /** One pass now, after any running one; `force` skips the claim's interval (tests, start-up). */
  async sweep(force = true): Promise<void> {
    while (this.sweeping !== null) await this.sweeping;
    this.sweeping = this.once(force).finally(() => {
      this.sweeping = null;
    });
    await this.sweeping;
  }

  /** Stops the timer and waits for a running pass. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    while (this.sweeping !== null) await this.sweeping.catch(() => {});
  }

  private async once(force: boolean): Promise<void> {
    const { store, detector, alerts, metrics } = this.modules;
    const started = performance.now();
    const t = this.opts.now();
    const minGap = force ? 0 : Math.floor(this.opts.intervalMs * 0.8);
    if (!(await store.tx((tx) => sweepRepository.claimSweep(tx, t, minGap)))) return;
    const input = await loadSweepInput(store, t, this.opts.keyMovedWindowMs);
    heardFrom(input.hosts, this.startedAt);
    const detections = await detector.fullPass(input.groups, input.hosts, t);
    await alerts.reconcile(detections, FLEET_KINDS, t);
    metrics.passSeconds.observe((performance.now() - started) / 1000);
    const counts = await store.tx((tx) => notificationsRepository.countByState(tx), { readOnly: true });
    for (const state of ["pending", "sent", "dead"]) metrics.outbox.set({ state }, counts[state] ?? 0);
  }
}

/**
 * Silence counts from when this monitor could hear a host: after a restart its agents need a moment
 * to reach it again, and a monitor that was down must not call the whole fleet silent.
 */
function heardFrom(hosts: HostState[], startedAt: number): void {
  for (const h of hosts) h.lastReportAt = Math.max(h.lastReportAt, startedAt);
}
