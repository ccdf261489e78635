import { afterEach, describe, expect, it } from "vitest";
import { WorkerPool, WorkerPoolErrorCode } from "../../../src/util/workerPool.js";

const MODULE = new URL("../../utils/workers/echoWorker.ts", import.meta.url);
type In = { op: string; data?: Float64Array };
type Out = { data: Float64Array | null; thread: number };

describe("WorkerPool", () => {
  let pool: WorkerPool<In, Out> | null = null;
  const make = (size: number) => {
    pool = new WorkerPool<In, Out>({ module: MODULE, size });
    return pool;
  };
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it("runs tasks on a fixed number of threads and moves buffers by transfer", async () => {
    const p = make(2);
    const inputs = Array.from({ length: 20 }, (_, i) => new Float64Array([i, i + 0.5]));
    const outs = await Promise.all(inputs.map((d) => p.run({ op: "double", data: d }, [d.buffer as ArrayBuffer])));
    for (const [i, o] of outs.entries()) expect([...o.data!]).toEqual([2 * i, 2 * i + 1]);
    expect(inputs[0]!.byteLength).toBe(0); // transferred, not copied
    expect(new Set(outs.map((o) => o.thread)).size).toBeLessThanOrEqual(2);
  });

  it("a task that throws fails alone; a crashed worker fails its task and is replaced", async () => {
    const p = make(1);
    await expect(p.run({ op: "throw" })).rejects.toMatchObject({ code: WorkerPoolErrorCode.TaskFailed });
    const crash = p.run({ op: "crash" });
    const after = p.run({ op: "double", data: new Float64Array([4]) });
    await expect(crash).rejects.toMatchObject({ code: WorkerPoolErrorCode.Crashed });
    expect([...(await after).data!]).toEqual([8]);
  });

  it("close lets queued tasks finish, then refuses new ones", async () => {
    const p = make(1);
    const pending = Array.from({ length: 5 }, (_, i) => p.run({ op: "double", data: new Float64Array([i]) }));
    await p.close();
    expect((await Promise.all(pending)).map((o) => o.data![0])).toEqual([0, 2, 4, 6, 8]);
    await expect(p.run({ op: "double" })).rejects.toMatchObject({ code: WorkerPoolErrorCode.Closed });
  });
});
