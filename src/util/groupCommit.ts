import { AppError, CommonErrorCode } from "./errors.js";

/** One request's answer from a batch flush: a value, or the error that request alone gets. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Most requests decided in one flush (one transaction). */
  maxBatch: number;
  /** Independent queues; a request always goes to the same shard, so its key keeps arrival order. */
  shards?: number;
}

interface Pending<Req, Res> {
  req: Req;
  resolve: (v: Res) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: requests that arrive while a flush is running are collected and decided together in
 * the next flush, so N concurrent requests cost one transaction instead of N. A shard runs one flush
 * at a time, which keeps the arrival order for every key that maps to it.
 */
export class GroupCommit<Req, Res> {
  private readonly queues: Pending<Req, Res>[][];
  private readonly running: boolean[];
  private readonly scheduled: boolean[];
  private closed = false;

  constructor(
    private readonly opts: GroupCommitOptions,
    private readonly flush: (batch: Req[]) => Promise<Settled<Res>[]>,
    private readonly shardOf: (req: Req) => number = () => 0,
  ) {
    const n = Math.max(1, opts.shards ?? 1);
    this.queues = Array.from({ length: n }, () => []);
    this.running = new Array<boolean>(n).fill(false);
    this.scheduled = new Array<boolean>(n).fill(false);
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
    while (this.running.some(Boolean) || this.pending > 0) await new Promise((r) => setTimeout(r, 5));
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
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, this.opts.maxBatch);
        let results: Settled<Res>[];
        try {
          results = await this.flush(batch.map((p) => p.req));
        } catch (e) {
          for (const p of batch) p.reject(e);
          continue;
        }
        batch.forEach((p, i) => {
          const r = results[i];
          if (r === undefined) p.reject(new Error("group commit: flush returned too few results"));
          else if (r.ok) p.resolve(r.value);
          else p.reject(r.error);
        });
      }
    } finally {
      this.running[shard] = false;
    }
  }
}
