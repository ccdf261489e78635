import type { ValidatorState } from "../chains/cometbft/index.js";
import { errorMessage, jsonSafe } from "../util/errors.js";
import { FailoverError, FailoverErrorCode, RefusalReason } from "./errors.js";
import { chooseHandover } from "./handover.js";
import { HealthChecker, type HealthReport } from "./health.js";
import { HealthHysteresis } from "./hysteresis.js";
import { mayAcquire } from "./lease/lease.js";
import { LeaseKeeper } from "./lease/leaseKeeper.js";
import { LeaseWatch } from "./leaseWatch.js";
import { realTimers, sleepOn } from "./monotonic.js";
import type { ValidatorKeyInfo } from "./node/keyFiles.js";
import { fsKeyFileIo, LocalNode } from "./node/localNode.js";
import { fsStateFileIo } from "./node/stateFile.js";
import type { FailoverModules, FailoverOptions } from "./options.js";
import { PassiveUpkeep } from "./passiveUpkeep.js";
import { type PromotionContext, promote, promotionEvent } from "./promotion.js";
import { DaemonReporter } from "./reporter.js";
import { type FailoverStatus, healthView, leaseView, type Role } from "./status.js";

/**
 * One failover daemon per validator host. Passive: keeps its node running with a dummy key, syncs the
 * active's state file, and runs the promotion checklist when the lease is free. Active: renews the lease
 * (stopping the node itself before it could expire), watches its node, and hands over when it is unhealthy
 * and a peer is ready, or when the primary asks for failback, at most once per handover window.
 */
export class FailoverDaemon {
  private role: Role = "starting";
  private readonly keeper: LeaseKeeper;
  private readonly health: HealthChecker;
  private readonly hysteresis: HealthHysteresis;
  private readonly lease: LeaseWatch;
  private readonly upkeep: PassiveUpkeep;
  private lastReport: HealthReport | null = null;
  private readonly node: LocalNode;
  private handoverRequest: string | null = null;
  private nextPromotionAt = 0;
  private readonly report: DaemonReporter;
  private emergency: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  /** The promotion in progress: aborted when the lease is lost. */
  private promotionAbort: AbortController | null = null;
  /** The promotion has begun to change the local node (stopped it, key, start). */
  private promotionTouched = false;

  private constructor(
    private readonly opts: FailoverOptions,
    private readonly m: FailoverModules,
    private readonly validatorKey: { info: ValidatorKeyInfo; content: string },
  ) {
    this.keeper = new LeaseKeeper(
      { renewIntervalMs: opts.lease.renewIntervalMs, marginMs: opts.lease.marginMs },
      {
        store: m.lease,
        clock: m.clock,
        ...(m.timers === undefined ? {} : { timers: m.timers }),
        logger: m.logger,
        onLost: (reason, detail) => this.onLeaseLost(reason, detail),
        onRenewed: (to) => {
          this.handoverRequest = to;
        },
        onRenewOutcome: (o) => m.metrics?.leaseRenewals.inc({ outcome: o }),
      },
    );
    this.node = new LocalNode(opts.files.nodeKeyFile, validatorKey.info, m.node, {
      ...(m.keyFiles === undefined ? {} : { keys: m.keyFiles }),
      ...(m.timers === undefined ? {} : { timers: m.timers }),
      keyWriteTimeoutMs: opts.stopTimeoutMs,
      logger: m.logger,
    });
    this.report = new DaemonReporter(opts.nodeId, m);
    this.hysteresis = new HealthHysteresis(opts.retryAttempts, m.clock.now(), false);
    this.lease = new LeaseWatch(m.lease, m.clock);
    this.upkeep = new PassiveUpkeep(opts, m, {
      node: this.node,
      lease: this.lease,
      report: this.report,
      hysteresis: this.hysteresis,
      ready: () => this.ready(),
    });
    this.health = new HealthChecker(
      { ...opts.health, validatorAddress: validatorKey.info.address },
      { chain: m.chain, evm: m.evm, clock: m.clock },
    );
  }

  /** Loads the validator key (a bad key file stops here), reconciles the node with the lease, starts the loop. */
  static async start(opts: FailoverOptions, m: FailoverModules): Promise<FailoverDaemon> {
    const key = await (m.keyFiles ?? fsKeyFileIo).readValidatorKey(opts.files.validatorKeyFile);
    const d = new FailoverDaemon(opts, m, key);
    await d.reconcile();
    d.loop = d.run();
    return d;
  }

  private async reconcile(): Promise<void> {
    await this.probeNode();
    await this.lease.read();
    const rec = this.lease.last;
    const mine = rec !== null && rec.holder === this.opts.nodeId && !rec.released;
    if (this.node.running !== false) {
      if (mine && this.node.fileKey === "validator") await this.resume();
      // A node found running under a dummy key file is restarted quietly: it may still hold the validator key.
      else await this.fence("the node runs, but not under this node's lease", this.node.fileKey !== "dummy");
    }
    if (this.role === "starting") this.setRole("passive");
  }

  /** Stops the loop. The node is left as it is: an active node keeps signing, and no peer promotes while the chain shows it. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.emergency;
    this.keeper.stop();
  }

  get healthy(): boolean {
    return this.hysteresis.healthy;
  }

  get currentRole(): Role {
    return this.role;
  }

  /** The node's state file as it is now (for /validator_state). */
  validatorState(): Promise<ValidatorState | null> {
    return (this.m.stateFiles ?? fsStateFileIo).read(this.opts.files.stateFile);
  }

  status(): FailoverStatus {
    const held = this.keeper.held;
    return {
      node_id: this.opts.nodeId,
      role: this.role,
      primary: this.opts.primary,
      ready: this.ready(),
      validator_address: this.validatorKey.info.address,
      lease: leaseView(
        this.m.lease.kind,
        this.lease.last,
        this.opts.nodeId,
        held === null ? null : Math.round(this.keeper.msToDeadline),
        this.lease.error,
      ),
      // a node being started is running as far as any peer is concerned
      node: {
        running: this.node.starting ? true : this.node.running,
        starting: this.node.starting,
        key: this.node.loadedKey ?? this.node.fileKey,
      },
      last_signed_height: this.health.lastSignedHeight?.toString() ?? null,
      health: healthView(this.lastReport, this.hysteresis.healthy),
      last_event: this.report.lastEvent === null ? null : jsonSafe(this.report.lastEvent),
    };
  }

  private ready(): boolean {
    return (
      this.role === "passive" &&
      this.hysteresis.healthy &&
      this.lease.error === null &&
      this.node.running === true &&
      !this.node.starting &&
      this.node.loadedKey === "dummy"
    );
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.tick();
      } catch (e) {
        this.m.logger.error("Failover tick failed", { role: this.role }, e);
      }
      await sleepOn(this.m.timers ?? realTimers, this.opts.tickMs, this.abort.signal);
    }
  }

  private async tick(): Promise<void> {
    await this.probeNode();
    await this.lease.read();
    const report = await this.health.check(this.role === "active");
    this.lastReport = report;
    this.hysteresis.update(report.ok, this.m.clock.now());
    this.report.health(report, {
      healthy: this.hysteresis.healthy,
      epoch: this.lease.last?.epoch ?? null,
      lastSigned: this.health.lastSignedHeight,
      msToSelfStop: this.keeper.held === null ? null : this.keeper.msToDeadline,
    });
    if (this.emergency !== null) return;
    if (this.role === "active") await this.activeTick();
    else if (this.role === "passive") await this.passiveTick();
  }

  private async activeTick(): Promise<void> {
    if (this.keeper.held === null) {
      this.setRole("passive");
      return;
    }
    const h = await chooseHandover(this.opts, this.m, this.report, {
      lease: this.lease.last,
      requested: this.handoverRequest,
      healthy: this.hysteresis.healthy,
      lastReport: this.lastReport,
    });
    if (h !== null) await this.demote(h.target, h.reason);
  }

  private async passiveTick(): Promise<void> {
    // Fencing: a passive host never runs the validator key, whatever happened before.
    if (this.node.mayHoldValidatorKey) {
      await this.fence("a passive node ran with the validator key (or an unknown one)", true);
      return;
    }
    await this.upkeep.ensureNode();
    await this.upkeep.syncState();
    const rec = this.lease.last;
    if (rec === null || this.lease.error !== null) return;
    const now = this.m.clock.now();
    if (rec.live && rec.holder !== this.opts.nodeId) {
      await this.upkeep.maybeRequestFailback(rec);
      return;
    }
    // A passive node replaces an active that went away; it never starts the pair on its own.
    if (rec.epoch === 0n && this.opts.startAs !== "active") return;
    if (!mayAcquire(rec, this.opts.nodeId, this.opts.lease.reserveMs) || now < this.nextPromotionAt) return;
    if (!this.hysteresis.healthy) {
      this.report.refusal(RefusalReason.Unhealthy, "the lease is free but this node is not healthy", true);
      return;
    }
    const why =
      rec.epoch === 0n
        ? "first start"
        : rec.released
          ? `${rec.holder} released the lease`
          : `${rec.holder}'s lease expired`;
    await this.runPromotion(why);
  }

  private async runPromotion(reason: string): Promise<void> {
    this.setRole("promoting");
    const abort = new AbortController();
    this.promotionAbort = abort;
    this.promotionTouched = false;
    const ctx: PromotionContext = {
      opts: this.opts,
      m: this.m,
      keeper: this.keeper,
      validatorKey: this.validatorKey,
      signal: abort.signal,
      stopLocalNode: () => {
        this.promotionTouched = true;
        return this.node.stop();
      },
      installValidatorKey: (content) => this.node.installValidatorKey(content),
      endedSeenAt: (epoch) => this.lease.endedSeenAt(epoch),
      startNode: (signal) => this.node.startValidator(signal),
    };
    this.m.logger.info("Promotion started", { reason });
    try {
      const r = await promote(ctx, reason);
      this.promotionAbort = null;
      this.node.startedWithValidator();
      if (this.keeper.held?.epoch !== r.grant.epoch) {
        // lost between the last check and here: the stop path takes over at once
        this.setRole("active");
        this.onLeaseLost("lease_lost", "lost right after the promotion");
        return;
      }
      this.handoverRequest = null;
      this.health.resetSigning();
      this.hysteresis.reset(true, this.m.clock.now());
      this.setRole("active");
      await this.lease.read();
      this.report.emit(promotionEvent(r, this.opts.nodeId, this.opts.primary, reason));
    } catch (e) {
      this.promotionAbort = null;
      // A node that may still hold the validator key is fenced by the next passive tick.
      this.node.afterFailedPromotion();
      this.nextPromotionAt = this.m.clock.now() + this.opts.retryAfterMs;
      this.upkeep.nextNodeStartAt = 0;
      if (this.role === "promoting") this.setRole("passive");
      if (e instanceof FailoverError && e.type.code === FailoverErrorCode.PromotionRefused) {
        this.report.refusal(e.type.reason, e.type.detail, e.type.reason === RefusalReason.LeaseHeld);
      } else {
        this.report.refusal(RefusalReason.NodeFailed, errorMessage(e), false);
      }
    }
  }

  /** Voluntary step-down: stop the node (confirmed), then release the lease naming the target. */
  private async demote(target: string | null, reason: string): Promise<void> {
    const grant = this.keeper.held;
    if (grant === null) return;
    this.setRole("demoting");
    try {
      await this.node.stop();
    } catch (e) {
      // Not stopped: keep the lease, so nobody can start the key elsewhere.
      this.m.logger.error("Could not stop the node for a handover; staying active", { target }, e);
      if (this.role === "demoting") this.setRole("active");
      return;
    }
    this.keeper.stop();
    await this.m.lease
      .release(grant, { holderStopped: true, handoverTo: target })
      .catch((e: unknown) => this.m.logger.warn("Lease release failed; it will expire", { epoch: grant.epoch }, e));
    this.handoverRequest = null;
    this.upkeep.nextNodeStartAt = 0;
    this.nextPromotionAt = this.m.clock.now() + this.opts.retryAfterMs;
    this.setRole("passive");
    await this.lease.read();
    this.report.emit({ kind: "handover", node: this.opts.nodeId, epoch: grant.epoch, target, reason });
  }

  /** Restarted daemon whose node kept running under its own lease: take the lease up again (new epoch). */
  private async resume(): Promise<void> {
    const sentAt = this.m.clock.now();
    try {
      const { grant } = await this.m.lease.acquire({
        holder: this.opts.nodeId,
        ttlMs: this.opts.lease.ttlMs,
        stopTimeoutMs: this.opts.stopBoundMs,
        reason: "daemon restart; node kept running",
      });
      this.keeper.start(grant, sentAt);
      this.node.startedWithValidator();
      this.hysteresis.reset(true, this.m.clock.now());
      this.setRole("active");
      this.report.emit({ kind: "activated", node: this.opts.nodeId, epoch: grant.epoch, reason: "daemon restart" });
    } catch (e) {
      await this.fence(`cannot take up this node's lease again: ${errorMessage(e)}`, true);
    }
  }

  private onLeaseLost(reason: "lease_lost" | "renew_deadline", detail: string): void {
    if (this.promotionAbort !== null) {
      // Every step of the promotion stops at once (a node start in progress is killed).
      this.promotionAbort.abort();
      // Not yet touched: the passive node still runs with its dummy key; the promotion cleans up.
      if (!this.promotionTouched) return;
      // Touched: the validator key may be in place or the node starting: stop it now, not after the
      // start returns (the promotion's own clean-up stops it once more).
    }
    this.emergency ??= this.selfStop(reason, detail).finally(() => {
      this.emergency = null;
    });
  }

  private fence(detail: string, alert: boolean): Promise<void> {
    this.emergency ??= this.selfStop("fenced", detail, alert).finally(() => {
      this.emergency = null;
    });
    return this.emergency;
  }

  /** Stops signing now: the node first (kill path included), retried; then the dummy key (LocalNode.stop). */
  private async selfStop(
    reason: "lease_lost" | "renew_deadline" | "fenced",
    detail: string,
    alert = true,
  ): Promise<void> {
    const epoch = this.keeper.held?.epoch ?? this.lease.last?.epoch ?? 0n;
    this.keeper.stop();
    this.setRole("stopping");
    let stopped = false;
    for (let attempt = 0; attempt < 5 && !stopped; attempt++) {
      try {
        await this.node.stop();
        stopped = true;
      } catch (e) {
        this.m.logger.error("Self-stop: the node did not stop; retrying", { attempt }, e);
        await this.m.sleep(this.opts.chainCheck.pollMs);
      }
    }
    this.upkeep.nextNodeStartAt = this.m.clock.now() + this.opts.retryAfterMs;
    this.nextPromotionAt = this.m.clock.now() + this.opts.retryAfterMs;
    this.setRole("passive");
    if (alert || !stopped)
      this.report.emit({ kind: "self_stop", node: this.opts.nodeId, epoch, reason, detail, stopped });
    else this.m.logger.info("Node restarted as passive", { detail });
  }

  private async probeNode(): Promise<void> {
    try {
      await this.node.probe();
    } catch (e) {
      this.report.warnOnce("probe", "Node probe failed", {}, e);
    }
  }

  private setRole(role: Role): void {
    this.role = role;
    this.report.role(role);
  }
}
