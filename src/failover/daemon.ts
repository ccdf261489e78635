import type { ValidatorState } from "../chains/cometbft/stateFile.js";
import { errorMessage, jsonSafe } from "../util/errors.js";
import { FailoverError, FailoverErrorCode, RefusalReason } from "./errors.js";
import { HealthChecker, type HealthReport } from "./health.js";
import { failbackDue, HealthHysteresis, handoverAllowed } from "./hysteresis.js";
import { type LeaseRecord, mayAcquire } from "./lease/lease.js";
import { LeaseKeeper } from "./lease/leaseKeeper.js";
import { realTimers, sleepOn } from "./monotonic.js";
import type { ValidatorKeyInfo } from "./node/keyFiles.js";
import { fsKeyFileIo, LocalNode } from "./node/localNode.js";
import { fsStateFileIo } from "./node/stateFile.js";
import type { FailoverModules, FailoverOptions } from "./options.js";
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
  private lastLease: LeaseRecord | null = null;
  private leaseError: string | null = null;
  private lastReport: HealthReport | null = null;
  private readonly node: LocalNode;
  private handoverRequest: string | null = null;
  private nextPromotionAt = 0;
  private nextSyncAt = 0;
  private nextNodeStartAt = 0;
  private readonly report: DaemonReporter;
  private emergency: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  /** The promotion in progress: aborted when the lease is lost. */
  private promotionAbort: AbortController | null = null;
  /** The promotion has begun to change the local node (stopped it, key, start). */
  private promotionTouched = false;
  /** When this process first saw the lease's latest epoch ended (monotonic). */
  private endedSeen: { epoch: bigint; at: number } | null = null;

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
    await this.readLease();
    const rec = this.lastLease;
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
        this.lastLease,
        this.opts.nodeId,
        held === null ? null : Math.round(this.keeper.msToDeadline),
        this.leaseError,
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
      this.leaseError === null &&
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
    await this.readLease();
    const report = await this.health.check(this.role === "active");
    this.lastReport = report;
    this.hysteresis.update(report.ok, this.m.clock.now());
    this.report.health(report, {
      healthy: this.hysteresis.healthy,
      epoch: this.lastLease?.epoch ?? null,
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
    const windowOk = handoverAllowed(this.lastLease?.acquiredAgoMs ?? null, this.opts.handoverWindowMs);
    const target = this.handoverRequest;
    if (target !== null && target !== this.opts.nodeId) {
      if (!windowOk)
        this.report.warnOnce("window", "Failback asked for, but the handover window is still closed", { target });
      else if ((await this.m.peers.status(target))?.ready) {
        await this.demote(target, `failback asked for by ${target}`);
        return;
      }
    }
    if (this.hysteresis.healthy) return;
    const failed = (this.lastReport?.checks ?? []).filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    if (!windowOk) {
      this.report.warnOnce("window", "Node unhealthy, but the handover window is still closed; staying active", {
        failed,
      });
      return;
    }
    const ready = await this.m.peers.firstReady(this.opts.nodeId);
    if (ready === null) {
      this.report.warnOnce("no-peer", "Node unhealthy, but no peer is ready to take over; staying active", { failed });
      return;
    }
    await this.demote(ready, `unhealthy: ${failed.join("; ")}`);
  }

  private async passiveTick(): Promise<void> {
    // Fencing: a passive host never runs the validator key, whatever happened before.
    if (this.node.mayHoldValidatorKey) {
      await this.fence("a passive node ran with the validator key (or an unknown one)", true);
      return;
    }
    await this.ensurePassiveNode();
    await this.syncState();
    const rec = this.lastLease;
    if (rec === null || this.leaseError !== null) return;
    const now = this.m.clock.now();
    if (rec.live && rec.holder !== this.opts.nodeId) {
      await this.maybeRequestFailback(rec);
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
      endedSeenAt: (epoch) => (this.endedSeen?.epoch === epoch ? this.endedSeen.at : null),
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
      await this.readLease();
      this.report.emit(promotionEvent(r, this.opts.nodeId, this.opts.primary, reason));
    } catch (e) {
      this.promotionAbort = null;
      // A node that may still hold the validator key is fenced by the next passive tick.
      this.node.afterFailedPromotion();
      this.nextPromotionAt = this.m.clock.now() + this.opts.retryAfterMs;
      this.nextNodeStartAt = 0;
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
    this.nextNodeStartAt = 0;
    this.nextPromotionAt = this.m.clock.now() + this.opts.retryAfterMs;
    this.setRole("passive");
    await this.readLease();
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
    const epoch = this.keeper.held?.epoch ?? this.lastLease?.epoch ?? 0n;
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
    this.nextNodeStartAt = this.m.clock.now() + this.opts.retryAfterMs;
    this.nextPromotionAt = this.m.clock.now() + this.opts.retryAfterMs;
    this.setRole("passive");
    if (alert || !stopped)
      this.report.emit({ kind: "self_stop", node: this.opts.nodeId, epoch, reason, detail, stopped });
    else this.m.logger.info("Node restarted as passive", { detail });
  }

  /** A passive node keeps following the chain with a dummy key, so it is ready to take over. */
  private async ensurePassiveNode(): Promise<void> {
    if (this.node.running !== false || this.m.clock.now() < this.nextNodeStartAt) return;
    try {
      await this.node.startPassive();
    } catch (e) {
      this.nextNodeStartAt = this.m.clock.now() + this.opts.retryAfterMs;
      this.m.logger.warn("Could not start the passive node", {}, e);
    }
  }

  /** Keeps a copy of the active's state file (never lowered); promotion refreshes it once more. */
  private async syncState(): Promise<void> {
    const rec = this.lastLease;
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
      this.report.warnOnce("sync", "Could not save the synced state copy", {}, e);
    }
  }

  private async maybeRequestFailback(rec: LeaseRecord): Promise<void> {
    if (!this.opts.primary || this.opts.failback !== "auto" || !this.hysteresis.healthy) return;
    if (rec.handoverTo === this.opts.nodeId || !this.ready()) return;
    const due = failbackDue({
      healthyForMs: this.hysteresis.heldForMs(this.m.clock.now()),
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

  private async probeNode(): Promise<void> {
    try {
      await this.node.probe();
    } catch (e) {
      this.report.warnOnce("probe", "Node probe failed", {}, e);
    }
  }

  private async readLease(): Promise<void> {
    try {
      const rec = await this.m.lease.read();
      this.lastLease = rec;
      this.leaseError = null;
      // First sight of an ended epoch, on our own monotonic clock (time rules count from here, see
      // promotion.confirmOldStopped); only the latest epoch is kept.
      if (!rec.live && rec.epoch > 0n && this.endedSeen?.epoch !== rec.epoch) {
        this.endedSeen = { epoch: rec.epoch, at: this.m.clock.now() };
      }
    } catch (e) {
      this.leaseError = errorMessage(e);
    }
  }

  private setRole(role: Role): void {
    this.role = role;
    this.report.role(role);
  }
}
