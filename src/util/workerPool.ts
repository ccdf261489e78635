import { availableParallelism } from "node:os";
import { isMainThread, parentPort, type TransferListItem, type Worker } from "node:worker_threads";
import { AppError } from "./errors.js";
import { startModuleWorker } from "./moduleWorker.js";

export interface WorkerPoolOptions {
  /** The module every worker runs; it calls serveWorker(). */
  module: URL;
  /** Number of workers (default: cores - 1, at least 1). */
  size?: number;
  /** Node flags for the workers. */
  execArgv?: string[];
}

export enum WorkerPoolErrorCode {
  Closed = "ERR_WORKER_POOL_CLOSED",
  Crashed = "ERR_WORKER_CRASHED",
  TaskFailed = "ERR_WORKER_TASK_FAILED",
}

class WorkerPoolError extends AppError<{ code: WorkerPoolErrorCode }> {}

interface Task<In, Out> {
  input: In;
  transfer: readonly TransferListItem[];
  resolve: (v: Out) => void;
  reject: (e: unknown) => void;
}

interface Slot<In, Out> {
  worker: Worker;
  task: Task<In, Out> | null;
}

type Reply<Out> = { ok: true; value: Out } | { ok: false; message: string };

/**
 * A fixed pool of worker threads running one module: tasks queue in order, each worker runs one at a
 * time, inputs and results move by transfer (no copy) when the caller lists their buffers. A worker
 * that dies fails only its own task and is replaced. Workers start on the first task.
 */
export class WorkerPool<In, Out> {
  private readonly size: number;
  private readonly slots: Slot<In, Out>[] = [];
  private readonly queue: Task<In, Out>[] = [];
  private closed = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.size = Math.max(1, opts.size ?? availableParallelism() - 1);
  }

  run(input: In, transfer: readonly TransferListItem[] = []): Promise<Out> {
    if (this.closed)
      return Promise.reject(new WorkerPoolError({ code: WorkerPoolErrorCode.Closed }, "worker pool is closed"));
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, transfer, resolve, reject });
      this.pump();
    });
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Takes no new tasks, lets queued and running ones finish, then stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.slots.some((s) => s.task !== null)) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.task === null);
      if (slot === undefined) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.postMessage(task.input, task.transfer);
    }
  }

  private spawn(): Slot<In, Out> {
    // One way to start a module worker (util/moduleWorker.ts): a .ts module (tests and benchmarks run
    // from sources) loads through tsx, with the pool's own flags only (a test runner's loader flags get
    // in its way); built .js runs as it is.
    const { href, pathname } = this.opts.module;
    const execArgv = this.opts.execArgv ?? (pathname.endsWith(".ts") ? [] : undefined);
    const worker = startModuleWorker(href, href, execArgv === undefined ? {} : { execArgv });
    const slot: Slot<In, Out> = { worker, task: null };
    worker.on("message", (reply: Reply<Out>) => {
      const task = slot.task;
      slot.task = null;
      if (task !== null) {
        if (reply.ok) task.resolve(reply.value);
        else task.reject(new WorkerPoolError({ code: WorkerPoolErrorCode.TaskFailed }, reply.message));
      }
      this.pump();
    });
    const fail = (why: string): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      slot.task?.reject(new WorkerPoolError({ code: WorkerPoolErrorCode.Crashed }, `worker stopped: ${why}`));
      slot.task = null;
      if (!this.closed || this.queue.length > 0) this.pump();
    };
    worker.on("error", (e) => fail(e.message));
    worker.on("exit", (code) => fail(`exit code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}

/**
 * Worker side: answers each task with `handler(input)`; `transferOf` lists the result's buffers so they
 * move to the caller instead of being copied.
 */
export function serveWorker<In, Out>(
  handler: (input: In) => Out | Promise<Out>,
  transferOf: (out: Out) => TransferListItem[] = () => [],
): void {
  if (isMainThread || parentPort === null) throw new Error("serveWorker must run in a worker thread");
  const port = parentPort;
  port.on("message", async (input: In) => {
    try {
      const value = await handler(input);
      port.postMessage({ ok: true, value } satisfies Reply<Out>, transferOf(value));
    } catch (e) {
      port.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) } satisfies Reply<Out>);
    }
  });
}
