import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import blst from "@chainsafe/blst";
import { startModuleWorker } from "../util/moduleWorker.js";
import type { WorkerRequest, WorkerResponse } from "./blsWorker.js";
import { KeyError, KeyErrorCode } from "./errors.js";

export interface BlsPoolOptions {
  /** Worker threads (default: one per core). */
  threads?: number;
  /** Most signatures one worker computes per message (bounds the latency a burst adds to one request). */
  maxBatch?: number;
}

interface Job {
  id: number;
  root: Uint8Array;
  /** Threshold shares: sign with secret·weight (a Lagrange coefficient), see threshold/blsThreshold.ts. */
  weight: Uint8Array | null;
  resolve: (sig: Uint8Array) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: Job[] | null;
  batch: number;
  /** A worker that failed holds no keys any more and gets no work. */
  dead: boolean;
}

/** Public key (48 bytes, compressed) of a BLS secret key; throws ERR_KEYSTORE_INVALID for an invalid key. */
export function blsPublicKey(secret: Uint8Array): Uint8Array {
  try {
    return blst.SecretKey.fromBytes(secret).toPublicKey().toBytes();
  } catch {
    throw new KeyError({ code: KeyErrorCode.KeystoreInvalid, field: "secret key" }, "not a valid BLS secret key");
  }
}

/**
 * BLS signing on worker threads, off the event loop. Secret keys are handed to every worker once and
 * addressed by a numeric id afterwards; signing requests queue and each idle worker takes a batch.
 */
export class BlsPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly maxBatch: number;
  private nextBatch = 1;
  private closed = false;

  constructor(opts: BlsPoolOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 32;
    const n = Math.max(1, opts.threads ?? availableParallelism());
    for (let i = 0; i < n; i++) {
      const worker = startModuleWorker(import.meta.url, "./blsWorker.js");
      const slot: Slot = { worker, busy: null, batch: 0, dead: false };
      worker.on("message", (m: WorkerResponse) => this.onMessage(slot, m));
      worker.on("error", (e) => this.onWorkerError(slot, e));
      worker.unref();
      this.slots.push(slot);
    }
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Workers able to sign (for health). */
  get liveThreads(): number {
    return this.slots.filter((s) => !s.dead).length;
  }

  /** Requests waiting for a worker (for metrics). */
  get queued(): number {
    return this.queue.length;
  }

  /** Loads secret keys into every worker. The caller's buffers are zeroed. */
  addKeys(keys: readonly { id: number; secret: Uint8Array }[]): void {
    for (const s of this.slots) {
      // one buffer of secrets per worker (transferred), not an object per key
      const ids = new Uint32Array(keys.length);
      const secrets = new Uint8Array(32 * keys.length);
      keys.forEach((k, i) => {
        ids[i] = k.id;
        secrets.set(k.secret, 32 * i);
      });
      const msg: WorkerRequest = { t: "add", ids, secrets };
      s.worker.postMessage(msg, [ids.buffer, secrets.buffer]);
    }
    for (const k of keys) k.secret.fill(0);
  }

  removeKeys(ids: readonly number[]): void {
    const msg: WorkerRequest = { t: "remove", ids: [...ids] };
    for (const s of this.slots) s.worker.postMessage(msg);
  }

  sign(id: number, root: Uint8Array, weight: Uint8Array | null = null): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new KeyError({ code: KeyErrorCode.KeySigning }, "signing pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ id, root, weight, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0))
      j.reject(new KeyError({ code: KeyErrorCode.KeySigning }, "signing pool closed"));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    if (this.liveThreads === 0) {
      for (const j of this.queue.splice(0))
        j.reject(new KeyError({ code: KeyErrorCode.KeySigning }, "no signing worker is alive"));
      return;
    }
    for (const s of this.slots) {
      if (this.queue.length === 0) return;
      if (s.busy !== null || s.dead) continue;
      const jobs = this.queue.splice(
        0,
        Math.max(1, Math.min(this.maxBatch, Math.ceil(this.queue.length / this.slots.length))),
      );
      const ids = new Uint32Array(jobs.length);
      const roots = new Uint8Array(32 * jobs.length);
      // weights only travel when a job has one (threshold shares); all-zero means unweighted
      const weights = jobs.some((j) => j.weight !== null) ? new Uint8Array(32 * jobs.length) : null;
      jobs.forEach((j, i) => {
        ids[i] = j.id;
        roots.set(j.root, 32 * i);
        if (j.weight !== null) weights?.set(j.weight, 32 * i);
      });
      s.busy = jobs;
      s.batch = this.nextBatch++;
      s.worker.ref(); // pending signatures keep the process alive; an idle pool does not
      const msg: WorkerRequest = { t: "sign", batch: s.batch, ids, roots, weights };
      s.worker.postMessage(
        msg,
        weights === null ? [ids.buffer, roots.buffer] : [ids.buffer, roots.buffer, weights.buffer],
      );
    }
  }

  private onMessage(s: Slot, m: WorkerResponse): void {
    const jobs = s.busy;
    if (jobs === null || m.batch !== s.batch) return;
    s.busy = null;
    s.worker.unref();
    if (m.t === "error") {
      for (const j of jobs) j.reject(new KeyError({ code: KeyErrorCode.KeySigning }, `signing failed: ${m.message}`));
    } else {
      const missing = new Set(m.missing);
      jobs.forEach((j, i) => {
        if (missing.has(i))
          j.reject(new KeyError({ code: KeyErrorCode.KeyUnknown, pubkey: "" }, "key not loaded in the signing pool"));
        else j.resolve(m.sigs.slice(96 * i, 96 * i + 96));
      });
    }
    this.dispatch();
  }

  private onWorkerError(s: Slot, e: Error): void {
    const jobs = s.busy ?? [];
    s.busy = null;
    s.dead = true;
    for (const j of jobs)
      j.reject(new KeyError({ code: KeyErrorCode.KeySigning }, `signing worker failed: ${e.message}`));
    this.dispatch();
  }
}
