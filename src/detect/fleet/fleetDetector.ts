import { WorkerPool } from "../../util/workerPool.js";
import { DEFAULT_DETECT_OPTIONS, type Detection, type DetectOptions, type HostState, type KeyGroup } from "../types.js";
import type { DetectTask } from "./detectWorker.js";
import { groupDetections, hostDetections } from "./fleetRules.js";
import { type BatchResult, batchBuffers, encodeBatch, evaluateBatch } from "./keyBatch.js";

export interface FleetDetectorOptions extends Partial<DetectOptions> {
  /** Key groups per worker task. */
  batchSize?: number;
  /** Worker threads for full passes; 0 runs every batch on the calling thread. */
  workers?: number;
}

const WORKER_MODULE = new URL(`./detectWorker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);

/**
 * Runs the fleet rules: a few key groups at once inline (the ingestion path, so double_active fires
 * as soon as the second host reports), or a full pass in batches of 1,000 on worker threads.
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

  /** Detections of a few groups, on this thread. */
  detectGroups(groups: readonly KeyGroup[], now: number): Detection[] {
    const r = evaluateBatch(encodeBatch(groups), now, this.opts.keyMovedWindowMs);
    return groups.flatMap((g, i) => groupDetections(g, r, i, now));
  }

  /** A full pass: every key group in batches (on the worker pool when there is one) and every host. */
  async fullPass(groups: readonly KeyGroup[], hosts: readonly HostState[], now: number): Promise<Detection[]> {
    const slices: KeyGroup[][] = [];
    for (let i = 0; i < groups.length; i += this.batchSize) slices.push(groups.slice(i, i + this.batchSize));
    const results = await Promise.all(slices.map((s) => this.evaluate(s, now)));
    const out: Detection[] = [];
    slices.forEach((s, si) => {
      const r = results[si]!;
      s.forEach((g, i) => {
        if (r.double[i] === 1 || r.moveFrom[i]! >= 0) out.push(...groupDetections(g, r, i, now));
      });
    });
    out.push(...hostDetections(hosts, now, this.opts));
    return out;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  private evaluate(groups: KeyGroup[], now: number): Promise<BatchResult> | BatchResult {
    const batch = encodeBatch(groups);
    if (this.pool === null) return evaluateBatch(batch, now, this.opts.keyMovedWindowMs);
    return this.pool.run({ batch, now, keyMovedWindowMs: this.opts.keyMovedWindowMs }, batchBuffers(batch));
  }
}
