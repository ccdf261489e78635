import { workerModuleUrl } from "../../util/moduleWorker.js";
import { WorkerPool } from "../../util/workerPool.js";
import { DEFAULT_DETECT_OPTIONS, type Detection, type DetectOptions, type HostState, type KeyGroup } from "../types.js";
import type { DetectTask } from "./detectWorker.js";
import { doubleActiveDetection, hostDetections, keyDetections, keyMovedDetection } from "./fleetRules.js";
import { type BatchResult, batchBuffers, encodeBatch } from "./keyBatch.js";

export interface FleetDetectorOptions extends Partial<DetectOptions> {
  /** Key groups per worker task. */
  batchSize?: number;
  /** Worker threads for full passes; 0 runs the plain rules on the calling thread. */
  workers?: number;
}

const WORKER_MODULE = workerModuleUrl(import.meta.url, "./detectWorker.js");

/**
 * A full detection pass over every key group and host. With workers, the groups go in batches of
 * typed arrays (keyBatch.ts) to worker threads; without, the plain rules of fleetRules.ts run here.
 * A report's few keys need neither: ingestion calls `keyDetections` directly.
 */
export class FleetDetector {
  readonly opts: DetectOptions;
  private readonly batchSize: number;
  private readonly pool: WorkerPool<DetectTask, BatchResult> | null;

  constructor(opts: FleetDetectorOptions = {}) {
    this.opts = {
      silentAfterIntervals: opts.silentAfterIntervals ?? DEFAULT_DETECT_OPTIONS.silentAfterIntervals,
      keyMovedWindowMs: opts.keyMovedWindowMs ?? DEFAULT_DETECT_OPTIONS.keyMovedWindowMs,
    };
    this.batchSize = opts.batchSize ?? 1000;
    const workers = opts.workers ?? 1;
    this.pool = workers > 0 ? new WorkerPool({ module: WORKER_MODULE, size: workers }) : null;
  }

  /** A full pass: every key group (in batches on the worker pool when there is one) and every host. */
  async fullPass(groups: readonly KeyGroup[], hosts: readonly HostState[], now: number): Promise<Detection[]> {
    const out =
      this.pool === null
        ? groups.flatMap((g) => keyDetections(g, now, this.opts.keyMovedWindowMs))
        : await this.pooledPass(this.pool, groups, now);
    out.push(...hostDetections(hosts, now, this.opts));
    return out;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  private async pooledPass(
    pool: WorkerPool<DetectTask, BatchResult>,
    groups: readonly KeyGroup[],
    now: number,
  ): Promise<Detection[]> {
    const slices: KeyGroup[][] = [];
    for (let i = 0; i < groups.length; i += this.batchSize) slices.push(groups.slice(i, i + this.batchSize));
    const keyMovedWindowMs = this.opts.keyMovedWindowMs;
    const results = await Promise.all(
      slices.map((s) => {
        const batch = encodeBatch(s);
        return pool.run({ batch, now, keyMovedWindowMs }, batchBuffers(batch));
      }),
    );
    const out: Detection[] = [];
    slices.forEach((s, si) => {
      const r = results[si]!;
      s.forEach((g, i) => {
        if (r.double[i] === 1) out.push(doubleActiveDetection(g, r.confidence[i]!));
        else if (r.moveFrom[i]! >= 0) out.push(keyMovedDetection(g, g.obs[r.moveFrom[i]!]!, g.obs[r.moveTo[i]!]!, now));
      });
    });
    return out;
  }
}
