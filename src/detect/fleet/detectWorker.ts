import { serveWorker } from "../../util/workerPool.js";
import { type BatchResult, batchBuffers, evaluateBatch, type KeyBatch } from "./keyBatch.js";

export interface DetectTask {
  batch: KeyBatch;
  now: number;
  keyMovedWindowMs: number;
}

serveWorker<DetectTask, BatchResult>(
  (t) => evaluateBatch(t.batch, t.now, t.keyMovedWindowMs),
  (r) => batchBuffers(r),
);
