import type { Counter } from "prom-client";

/** Signing requests answered in one minute: signed (200) and refused, by error code. */
export interface MinuteCounts {
  /** Start of the minute, unix ms. */
  minute: number;
  signed: number;
  refused: number;
  refusedByCode: Record<string, number>;
}

export interface SignStatsOptions {
  /** Minutes kept in memory (older ones are dropped). */
  keepMinutes: number;
  now: () => number;
}

const MINUTE_MS = 60_000;
const SIGNED = "200";

/** Totals of `slashguard_eth2_sign_requests_total` by its status label (200 or an error code). */
export function requestTotals(counter: Counter<"type" | "status">): () => Promise<Map<string, number>> {
  return async () => {
    const out = new Map<string, number>();
    for (const v of (await counter.get()).values) {
      const status = String(v.labels.status ?? "");
      out.set(status, (out.get(status) ?? 0) + v.value);
    }
    return out;
  };
}

/**
 * Signatures and refusals per minute for the dashboard, from the signer's own request counters: each
 * sample adds what the counters grew since the previous one to the current minute. Kept in memory
 * (a restart starts a new series; `since` says from when), so the signing path pays nothing for it.
 */
export class SignStats {
  private readonly buckets = new Map<number, MinuteCounts>();
  private last: Map<string, number> | null = null;
  // Samples run one after another: two overlapping reads would attribute a delta twice or not at all.
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  readonly since: number;

  constructor(
    private readonly opts: SignStatsOptions,
    private readonly read: () => Promise<Map<string, number>>,
  ) {
    this.since = opts.now();
  }

  /** Takes the baseline (what was counted before is not this series') and samples every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => void this.sample().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): Promise<void> {
    const next = this.queue.then(() => this.sampleNow());
    this.queue = next.catch(() => {});
    return next;
  }

  /** The last `n` minutes up to the current one (oldest first), zeros where nothing happened. */
  minutes(n: number): MinuteCounts[] {
    const current = floorMinute(this.opts.now());
    const first = Math.max(floorMinute(this.since), current - (n - 1) * MINUTE_MS);
    const out: MinuteCounts[] = [];
    for (let m = first; m <= current; m += MINUTE_MS)
      out.push(this.buckets.get(m) ?? { minute: m, signed: 0, refused: 0, refusedByCode: {} });
    return out;
  }

  private async sampleNow(): Promise<void> {
    const totals = await this.read();
    const prev = this.last;
    this.last = totals;
    if (prev === null) return;
    const minute = floorMinute(this.opts.now());
    let b = this.buckets.get(minute);
    for (const [status, total] of totals) {
      const before = prev.get(status) ?? 0;
      // A counter that went down was reset (registry cleared): all it holds now is new.
      const delta = total >= before ? total - before : total;
      if (delta === 0) continue;
      if (b === undefined) {
        b = { minute, signed: 0, refused: 0, refusedByCode: {} };
        this.buckets.set(minute, b);
      }
      if (status === SIGNED) b.signed += delta;
      else {
        b.refused += delta;
        b.refusedByCode[status] = (b.refusedByCode[status] ?? 0) + delta;
      }
    }
    const oldest = minute - (this.opts.keepMinutes - 1) * MINUTE_MS;
    for (const m of this.buckets.keys()) if (m < oldest) this.buckets.delete(m);
  }
}

function floorMinute(t: number): number {
  return Math.floor(t / MINUTE_MS) * MINUTE_MS;
}
