import { failbackDue, type HealthHysteresis } from "./hysteresis.js";
import type { LeaseRecord } from "./lease/lease.js";
import type { LeaseWatch } from "./leaseWatch.js";
import type { LocalNode } from "./node/localNode.js";
import { fsStateFileIo } from "./node/stateFile.js";
import type { FailoverModules, FailoverOptions } from "./options.js";
import type { DaemonReporter } from "./reporter.js";

export interface PassiveUpkeepParts {
  node: LocalNode;
  lease: LeaseWatch;
  report: DaemonReporter;
  hysteresis: HealthHysteresis;
  /** Ready to take over (a passive, healthy node running its dummy key). */
  ready: () => boolean;
}

/**
 * What a passive host does every tick besides deciding to promote: keep its node running with the dummy
 * key, keep a copy of the active's state file, and (primary with failback auto) ask the active to hand
 * back. The daemon's role transitions set `nextNodeStartAt` (0 = at once).
 */
export class PassiveUpkeep {
  /** Monotonic time before which the passive node is not started again. */
  nextNodeStartAt = 0;
  private nextSyncAt = 0;

  constructor(
    private readonly opts: FailoverOptions,
    private readonly m: FailoverModules,
    private readonly p: PassiveUpkeepParts,
  ) {}

  /** A passive node keeps following the chain with a dummy key, so it is ready to take over. */
  async ensureNode(): Promise<void> {
    if (this.p.node.running !== false || this.m.clock.now() < this.nextNodeStartAt) return;
    try {
      await this.p.node.startPassive();
    } catch (e) {
      this.nextNodeStartAt = this.m.clock.now() + this.opts.retryAfterMs;
      this.m.logger.warn("Could not start the passive node", {}, e);
    }
  }

  /** Keeps a copy of the active's state file (never lowered); promotion refreshes it once more. */
  async syncState(): Promise<void> {
    const rec = this.p.lease.last;
    const now = this.m.clock.now();
    if (rec === null || !rec.live || rec.holder === null || rec.holder === this.opts.nodeId || now < this.nextSyncAt) {
      return;
    }
    this.nextSyncAt = now + this.opts.stateSyncIntervalMs;
    const s = await this.m.peers.validatorState(rec.holder);
    if (s === null) return;
    try {
      await (this.m.stateFiles ?? fsStateFileIo).raise(this.opts.files.syncedStateFile, [s], async () => {});
    } catch (e) {
      this.p.report.warnOnce("sync", "Could not save the synced state copy", {}, e);
    }
  }

  async maybeRequestFailback(rec: LeaseRecord): Promise<void> {
    if (!this.opts.primary || this.opts.failback !== "auto" || !this.p.hysteresis.healthy) return;
    if (rec.handoverTo === this.opts.nodeId || !this.p.ready()) return;
    const due = failbackDue({
      healthyForMs: this.p.hysteresis.heldForMs(this.m.clock.now()),
      graceMs: this.opts.failbackGraceMs,
      acquiredAgoMs: rec.acquiredAgoMs,
      windowMs: this.opts.handoverWindowMs,
    });
    if (!due) return;
    this.m.logger.info("Asking the active for failback", { active: rec.holder });
    await this.m.lease.requestHandover(this.opts.nodeId).catch((e: unknown) => {
      this.m.logger.warn("Failback request failed", {}, e);
    });
  }
}
