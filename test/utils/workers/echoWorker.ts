import { serveWorker } from "../../../src/util/workerPool.js";

/** Test worker: doubles a Float64Array in place and sends it back by transfer; "crash" exits the thread. */
serveWorker<{ op: string; data?: Float64Array }, { data: Float64Array | null; thread: number }>(
  async (t) => {
    if (t.op === "crash") process.exit(3);
    if (t.op === "throw") throw new Error("task failed on purpose");
    const { threadId } = await import("node:worker_threads");
    if (t.data !== undefined) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! * 2;
    return { data: t.data ?? null, thread: threadId };
  },
  (r) => (r.data === null ? [] : [r.data.buffer as ArrayBuffer]),
);
