import { workerModuleUrl } from "../../util/moduleWorker.js";
import { WorkerPool } from "../../util/workerPool.js";
import {
  batchLength,
  evaluateForeign,
  type ForeignBatch,
  type ForeignResult,
  foreignBuffers,
  sliceBatch,
} from "./foreignSignerBatch.js";

export interface ForeignSignerScannerOptions {
  /** Keys per worker task (default 1,000). */
  batchSize?: number;
  /** Worker threads; 0 runs every batch on the calling thread (default 1). */
  workers?: number;
}

const WORKER_MODULE = workerModuleUrl(import.meta.url, "./foreignSignerWorker.js");

/** Runs the foreign-signer rule over every watched key in batches, on worker threads when there are any. */
export class ForeignSignerScanner {
  private readonly batchSize: number;
  private readonly pool: WorkerPool<ForeignBatch, ForeignResult> | null;

  constructor(opts: ForeignSignerScannerOptions = {}) {
    this.batchSize = Math.max(1, opts.batchSize ?? 1000);
    const workers = opts.workers ?? 1;
    this.pool = workers > 0 ? new WorkerPool({ module: WORKER_MODULE, size: workers }) : null;
  }

  /** One pass: the results of every key, in the batch's order. */
  async scan(b: ForeignBatch): Promise<ForeignResult> {
    const n = batchLength(b);
    const parts: Promise<ForeignResult>[] = [];
    for (let i = 0; i < n; i += this.batchSize) {
      const part = sliceBatch(b, i, Math.min(n, i + this.batchSize));
      parts.push(
        this.pool === null ? Promise.resolve(evaluateForeign(part)) : this.pool.run(part, foreignBuffers(part)),
      );
    }
    const results = await Promise.all(parts);
    const out: ForeignResult = {
      flags: new Uint8Array(n),
      confidence: new Float32Array(n),
      missRate: new Float32Array(n),
    };
    results.forEach((r, k) => {
      const at = k * this.batchSize;
      out.flags.set(r.flags, at);
      out.confidence.set(r.confidence, at);
      out.missRate.set(r.missRate, at);
    });
    return out;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
