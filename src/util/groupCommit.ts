import { AppError, CommonErrorCode } from "./errors.js";

/** One request's answer from a batch flush: a value, or the error that request alone gets. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Most requests decided in one flush (one transaction). */
  maxBatch: number;
  /** Independent queues; a request always goes to the same shard, so its key keeps arrival order. */
  shards?: number;
  /**
   * Flushes of one shard in flight at once (default 1). Above 1, the next flush starts when the one
   * before it calls `handoff` (it holds its key locks: see TxOptions.onBegun), so the two overlap while
   * their order on any shared key stays the arrival order.
   */
  overlap?: number;
}

/** A flush decides a batch; with `overlap`, it calls `handoff` once the next batch may start. */
export type Flush<Req, Res> = (batch: Req[], handoff: () => void) => Promise<Settled<Res>[]>;

interface Pending<Req, Res> {
  req: Req;
  resolve: (v: Res) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: requests that arrive while a flush is running are collected and decided together in
 * the next flush, so N concurrent requests cost one transaction instead of N. A shard starts its flushes
 * one after the other (the next once the previous one hands off or ends), which keeps the arrival order
 * for every key that maps to it.
 */
export class GroupCommit<Req, Res> {
  private readonly queues: Pending<Req, Res>[][];
  private readonly running: boolean[];
  private readonly scheduled: boolean[];
  /** Flushes in flight per shard (resolve when their batch is settled; never reject). */
  private readonly inFlight: Set<Promise<void>>[];
  private readonly overlap: number;
  private closed = false;

  constructor(
    private readonly opts: GroupCommitOptions,
    private readonly flush: Flush<Req, Res>,
    private readonly shardOf: (req: Req) => number = () => 0,
  ) {
    const n = Math.max(1, opts.shards ?? 1);
    this.queues = Array.from({ length: n }, () => []);
    this.running = new Array<boolean>(n).fill(false);
    this.scheduled = new Array<boolean>(n).fill(false);
    this.inFlight = Array.from({ length: n }, () => new Set());
    this.overlap = Math.max(1, opts.overlap ?? 1);
  }

  submit(req: Req): Promise<Res> {
    if (this.closed) {
      return Promise.reject(new AppError({ code: CommonErrorCode.ShuttingDown }, "shutting down: request not decided"));
    }
    const shard = Math.abs(this.shardOf(req)) % this.queues.length;
    return new Promise<Res>((resolve, reject) => {
      this.queues[shard]!.push({ req, resolve, reject });
      this.schedule(shard);
    });
  }

  /** Requests queued or in flight (for metrics and back-pressure). */
  get pending(): number {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }

  /** Stops taking requests and waits until every queued request is decided. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running.some(Boolean) || this.pending > 0 || this.inFlight.some((f) => f.size > 0))
      await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(shard: number): void {
    if (this.running[shard] || this.scheduled[shard]) return;
    this.scheduled[shard] = true;
    // setImmediate: let the I/O phase deliver every request that is already waiting before the flush starts
    setImmediate(() => {
      this.scheduled[shard] = false;
      void this.drain(shard);
    });
  }

  private async drain(shard: number): Promise<void> {
    if (this.running[shard]) return;
    this.running[shard] = true;
    const queue = this.queues[shard]!;
    const inFlight = this.inFlight[shard]!;
    try {
      while (queue.length > 0) {
        while (inFlight.size >= this.overlap) await Promise.race(inFlight);
        const batch = queue.splice(0, this.opts.maxBatch);
        let handoff: () => void = () => {};
        const handedOff = new Promise<void>((r) => {
          handoff = r;
        });
        const settled: Promise<void> = this.settle(batch, handoff).finally(() => inFlight.delete(settled));
        inFlight.add(settled);
        // the next batch starts once this one holds its locks (overlap) or is over
        await (this.overlap > 1 ? Promise.race([handedOff, settled]) : settled);
      }
    } finally {
      this.running[shard] = false;
    }
  }

  /** Runs one flush and answers each request of its batch; never rejects. */
  private async settle(batch: Pending<Req, Res>[], handoff: () => void): Promise<void> {
    let results: Settled<Res>[];
    try {
      results = await this.flush(
        batch.map((p) => p.req),
        handoff,
      );
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r === undefined) p.reject(new Error("group commit: flush returned too few results"));
      else if (r.ok) p.resolve(r.value);
      else p.reject(r.error);
    });
  }
}
