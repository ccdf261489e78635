/**
 * Health with hysteresis: the verdict changes only after `threshold` consecutive samples disagree with it,
 * so one failed probe never moves a validator and one good probe never moves it back.
 */
export class HealthHysteresis {
  private verdict: boolean;
  private streak = 0;
  private since: number;

  constructor(
    private readonly threshold: number,
    nowMs: number,
    initial = true,
  ) {
    this.verdict = initial;
    this.since = nowMs;
  }

  /** Feeds one sample; returns true when the verdict changed with it. */
  update(ok: boolean, nowMs: number): boolean {
    if (ok === this.verdict) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak < this.threshold) return false;
    this.verdict = ok;
    this.streak = 0;
    this.since = nowMs;
    return true;
  }

  get healthy(): boolean {
    return this.verdict;
  }

  /** How long the current verdict has held. */
  heldForMs(nowMs: number): number {
    return nowMs - this.since;
  }

  reset(ok: boolean, nowMs: number): void {
    this.verdict = ok;
    this.streak = 0;
    this.since = nowMs;
  }
}

/**
 * At most one voluntary handover (health-triggered step-down or failback) per window. The last handover
 * time comes from the lease store (how long ago the current epoch was granted), so every host applies the
 * same window. A node that died is still replaced at once: that path does not ask the window.
 */
export function handoverAllowed(acquiredAgoMs: number | null, windowMs: number): boolean {
  return acquiredAgoMs === null || acquiredAgoMs >= windowMs;
}

/** Failback: the primary's node has been healthy for the grace period and the window allows a handover. */
export function failbackDue(opts: {
  healthyForMs: number;
  graceMs: number;
  acquiredAgoMs: number | null;
  windowMs: number;
}): boolean {
  return opts.healthyForMs >= opts.graceMs && handoverAllowed(opts.acquiredAgoMs, opts.windowMs);
}
