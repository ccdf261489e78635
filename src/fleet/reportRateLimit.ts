import { AppError } from "../util/errors.js";
import { TokenBucket } from "../util/tokenBucket.js";

export interface ReportRateOptions {
  /** Reports a host may send per minute, sustained. */
  perMinute: number;
  /** Reports a host may send at once (an agent's queue after the monitor was down). */
  burst: number;
  now?: () => number;
}

export class ReportRateLimitedError extends AppError<{ code: "ERR_RATE_LIMITED"; retryAfterMs: number }> {}

/** Buckets kept at most; past it the full ones (hosts at rest) are forgotten. */
const MAX_BUCKETS = 100_000;

/**
 * Per host (owner + host name) token bucket on agent reports, checked before anything is read from or
 * written to the store: one agent, or one stolen agent token, cannot keep the monitor's writer busy.
 * A refused report is ERR_RATE_LIMITED with the wait (the API answers 429 with Retry-After); the
 * agent keeps it queued and sends it then.
 */
export class ReportRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly now: () => number;

  constructor(private readonly opts: ReportRateOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Takes one report's token for the host, or throws ERR_RATE_LIMITED. */
  take(ownerId: number, host: string): void {
    const key = `${ownerId}|${host}`;
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull();
      // Still full of busy hosts (host names sprayed by one token): no new host until some rest.
      if (this.buckets.size >= MAX_BUCKETS) throw limited(host, 60_000, this.opts.perMinute);
      b = new TokenBucket(this.opts.perMinute / 60, this.opts.burst, this.now);
      this.buckets.set(key, b);
    }
    const waitMs = b.take();
    if (waitMs > 0) throw limited(host, waitMs, this.opts.perMinute);
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetFull(): void {
    for (const [k, b] of this.buckets) if (b.full) this.buckets.delete(k);
  }
}

function limited(host: string, waitMs: number, perMinute: number): ReportRateLimitedError {
  return new ReportRateLimitedError(
    { code: "ERR_RATE_LIMITED", retryAfterMs: waitMs },
    `host ${host} sends reports faster than ${perMinute} a minute; retry in ${Math.ceil(waitMs / 1000)} s`,
  );
}
