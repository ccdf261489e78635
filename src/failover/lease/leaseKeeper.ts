import { errorMessage } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";
import { type Monotonic, realTimers, type Timers, withTimers } from "../monotonic.js";
import type { LeaseGrant, LeaseStore } from "./lease.js";

export interface LeaseKeeperOptions {
  renewIntervalMs: number;
  /** The holder stops its node this long before the lease could expire in the store. */
  marginMs: number;
}

export interface LeaseKeeperModules {
  store: LeaseStore;
  clock: Monotonic;
  /** Timers on `clock` (default: node's). */
  timers?: Timers;
  logger: Logger;
  /** Called once when the lease is lost or cannot be renewed before `ttl - margin`: stop signing now. */
  onLost: (reason: "lease_lost" | "renew_deadline", detail: string) => void;
  /** Each renewal's answer (failback requests arrive this way). */
  onRenewed?: (handoverTo: string | null) => void;
  onRenewOutcome?: (outcome: "ok" | "lost" | "error") => void;
}

/**
 * Renews a granted lease and enforces the self-stop deadline. The deadline is measured from the moment the
 * last successful renewal was *sent*: the store starts the new TTL after that moment, so `sent + ttl - margin`
 * is always before the lease can expire anywhere. The deadline timer runs apart from the renew call, so a
 * renewal hanging on a dead network cannot delay the stop.
 */
export class LeaseKeeper {
  private grant: LeaseGrant | null = null;
  private deadline = 0;
  private deadlineTimer: (() => void) | null = null;
  private renewTimer: (() => void) | null = null;
  private lostCalled = false;
  private readonly timers: Timers;

  constructor(
    private readonly opts: LeaseKeeperOptions,
    private readonly m: LeaseKeeperModules,
  ) {
    this.timers = m.timers ?? realTimers;
  }

  /** Starts keeping `grant`, which the store granted to a request sent at `sentAtMs` (monotonic). */
  start(grant: LeaseGrant, sentAtMs: number): void {
    this.stop();
    this.grant = grant;
    this.lostCalled = false;
    this.setDeadline(sentAtMs + grant.ttlMs - this.opts.marginMs);
    this.scheduleRenew(0);
  }

  stop(): void {
    this.grant = null;
    this.deadlineTimer?.();
    this.renewTimer?.();
    this.deadlineTimer = null;
    this.renewTimer = null;
  }

  get held(): LeaseGrant | null {
    return this.grant;
  }

  /** Milliseconds left before the self-stop (negative once passed). */
  get msToDeadline(): number {
    return this.deadline - this.m.clock.now();
  }

  /** Whether the lease was lost (or the self-stop deadline passed) since `start`. */
  get lost(): boolean {
    return this.lostCalled;
  }

  /** Throws ERR_FAILOVER_LEASE_LOST unless the lease is held with more than `minRemainingMs` left before the self-stop. */
  assertHeld(minRemainingMs = 0): LeaseGrant {
    const g = this.grant;
    if (g === null || this.lostCalled || this.msToDeadline <= minRemainingMs) {
      throw new FailoverError(
        { code: FailoverErrorCode.LeaseLost, epoch: g?.epoch ?? 0n, holder: g?.holder ?? null },
        "the failover lease is not held with time to spare",
      );
    }
    return g;
  }

  private setDeadline(at: number): void {
    this.deadline = at;
    this.deadlineTimer?.();
    this.deadlineTimer = this.timers.after(Math.max(0, at - this.m.clock.now()), () =>
      this.lose("renew_deadline", "the lease was not renewed before ttl - margin"),
    );
  }

  private scheduleRenew(delayMs: number): void {
    this.renewTimer?.();
    this.renewTimer = this.timers.after(delayMs, () => void this.renewOnce());
  }

  private async renewOnce(): Promise<void> {
    const grant = this.grant;
    if (grant === null) return;
    const sentAt = this.m.clock.now();
    try {
      // a renewal still pending at the deadline counts as failed
      const ms = Math.max(1, this.msToDeadline);
      const res = await withTimers(
        this.timers,
        this.m.store.renew(grant),
        ms,
        () => new Error(`no answer within ${Math.round(ms)} ms`),
      );
      if (this.grant !== grant) return; // stopped or replaced meanwhile
      this.setDeadline(sentAt + res.ttlMs - this.opts.marginMs);
      this.m.onRenewOutcome?.("ok");
      this.m.onRenewed?.(res.handoverTo);
    } catch (e) {
      if (this.grant !== grant) return;
      if (e instanceof FailoverError && e.code === FailoverErrorCode.LeaseLost) {
        this.m.onRenewOutcome?.("lost");
        this.lose("lease_lost", errorMessage(e));
        return;
      }
      // Store unreachable: keep trying until the deadline timer decides.
      this.m.onRenewOutcome?.("error");
      this.m.logger.warn("Failover lease renewal failed", { epoch: grant.epoch, msToDeadline: this.msToDeadline }, e);
    }
    if (this.grant === grant) this.scheduleRenew(this.opts.renewIntervalMs);
  }

  private lose(reason: "lease_lost" | "renew_deadline", detail: string): void {
    if (this.lostCalled || this.grant === null) return;
    this.lostCalled = true;
    const grant = this.grant;
    this.stop();
    this.m.logger.warn("Failover lease lost; stopping the node", { epoch: grant.epoch, reason, detail });
    this.m.onLost(reason, detail);
  }
}
