import { basename } from "node:path";
import type { Worker } from "node:worker_threads";
import { type Logger, nullLogger } from "../../util/logger.js";
import { startModuleWorker } from "../../util/moduleWorker.js";
import { HsmError, HsmErrorCode } from "./errors.js";
import type { HsmMetrics } from "./metrics.js";
import type { WorkerKeySpec, WorkerReply, WorkerRequest } from "./workerProtocol.js";

export interface Pkcs11ModuleOptions {
  /** Path of the PKCS#11 shared library. */
  module: string;
  /** A signature that takes longer fails (and the module reconnects). Default 5 s. */
  signTimeoutMs?: number;
  /** Loading, logging in and finding the keys. Default 30 s (network HSMs log in slowly). */
  connectTimeoutMs?: number;
  /** Back-off between reconnect attempts while the token is down. Default 500 ms doubling to 30 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface Pkcs11ModuleListener {
  down(module: string, error: HsmError): void;
  up(module: string): void;
}

export interface Pkcs11ModuleModules {
  logger?: Logger;
  metrics?: HsmMetrics | null;
}

type State = "new" | "up" | "down" | "closed";

interface Pending {
  resolve(r: WorkerReply & { ok: true }): void;
  reject(e: HsmError): void;
  /** Set when the request is sent: a thread that is still starting is not the token being slow. */
  timer: NodeJS.Timeout | null;
}

/** A worker thread that has not said it is ready by then is treated as failed. */
const WORKER_START_MS = 60_000;

/**
 * One PKCS#11 module, driven from its own worker thread. While the token works, `sign` forwards to it;
 * when a call fails or times out the module goes down: every signature is refused at once
 * (ERR_HSM_UNAVAILABLE) and it reconnects in the background with back-off, from a fresh
 * C_Initialize, until every key is found again with the public key it had at start.
 */
export class Pkcs11Module {
  readonly name: string;
  private worker: Worker | null = null;
  private workerReady = false;
  private notSent: (() => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private state: State = "new";
  private lastError: HsmError | null = null;
  private readonly specs: WorkerKeySpec[] = [];
  private readonly publicKeys: Uint8Array[] = [];
  private readonly listeners = new Set<Pkcs11ModuleListener>();
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private readonly logger: Logger;
  private readonly metrics: HsmMetrics | null;

  constructor(
    private readonly opts: Pkcs11ModuleOptions,
    modules: Pkcs11ModuleModules = {},
  ) {
    this.name = basename(opts.module);
    this.logger = (modules.logger ?? nullLogger).child({ hsmModule: this.name });
    this.metrics = modules.metrics ?? null;
    this.retryMs = opts.retryMinMs ?? 500;
  }

  get isUp(): boolean {
    return this.state === "up";
  }

  /** Why the module is down (null while up). */
  get error(): HsmError | null {
    return this.state === "up" ? null : this.lastError;
  }

  listen(l: Pkcs11ModuleListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Finds keys in the token (connecting first if needed) and returns their numbers and public keys.
   * Fails when the module is down: a signer does not start with a key it cannot reach.
   */
  async addKeys(specs: WorkerKeySpec[]): Promise<{ index: number; publicKey: Uint8Array }[]> {
    if (this.state === "closed") throw this.unavailable("closed");
    if (this.state === "down") throw this.lastError ?? this.unavailable("down");
    const first = this.state === "new";
    const r = await this.call(
      { op: first ? "connect" : "add", module: this.opts.module, keys: specs },
      this.opts.connectTimeoutMs ?? 30_000,
    );
    const base = this.specs.length;
    this.specs.push(...specs);
    this.publicKeys.push(...r.publicKeys!);
    if (first) this.setUp();
    return r.publicKeys!.map((publicKey, i) => ({ index: base + i, publicKey }));
  }

  /** Signs inside the token; refuses at once while the module is down. */
  async sign(index: number, message: Uint8Array): Promise<Uint8Array> {
    if (this.state !== "up") {
      this.metrics?.failures.inc({ module: this.name, code: HsmErrorCode.Unavailable });
      throw this.unavailable(this.lastError?.code ?? this.state);
    }
    const started = performance.now();
    try {
      const r = await this.call({ op: "sign", key: index, message }, this.opts.signTimeoutMs ?? 5000);
      this.metrics?.signSeconds.observe({ module: this.name }, (performance.now() - started) / 1000);
      return r.signature!;
    } catch (e) {
      const err = e as HsmError;
      this.metrics?.failures.inc({ module: this.name, code: err.code });
      this.goDown(err);
      throw err;
    }
  }

  /** Stops reconnecting, finalises the module and ends its thread. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    const wasNew = this.state === "new";
    this.state = "closed";
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.worker !== null && !wasNew) await this.call({ op: "close" }, 2000).catch(() => {});
    await this.stopWorker();
  }

  private setUp(): void {
    this.state = "up";
    this.lastError = null;
    this.retryMs = this.opts.retryMinMs ?? 500;
    this.metrics?.up.set({ module: this.name }, 1);
    for (const l of this.listeners) l.up(this.name);
  }

  private goDown(e: HsmError): void {
    this.lastError = e;
    if (this.state !== "up") return;
    this.state = "down";
    this.metrics?.up.set({ module: this.name }, 0);
    this.logger.error("PKCS#11 token failed: signing refused until it is back", e.toObject());
    for (const l of this.listeners) l.down(this.name, e);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state !== "down" || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.reconnect();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.opts.retryMaxMs ?? 30_000, this.retryMs * 2);
  }

  private async reconnect(): Promise<void> {
    if (this.state !== "down") return;
    try {
      const r = await this.call(
        { op: "connect", module: this.opts.module, keys: this.specs },
        this.opts.connectTimeoutMs ?? 30_000,
      );
      const changed = r.publicKeys!.findIndex((k, i) => Buffer.compare(k, this.publicKeys[i]!) !== 0);
      if (changed >= 0) {
        // Stay down: the label now names another key than the one this signer's state belongs to.
        throw new HsmError(
          { code: HsmErrorCode.KeyChanged, module: this.opts.module, token: this.specs[changed]!.tokenLabel },
          "the token now holds another key under the configured label",
        );
      }
      if (this.state !== "down") return;
      this.logger.info("PKCS#11 token is back: signing resumes", { keys: this.specs.length });
      this.setUp();
    } catch (e) {
      const err = e as HsmError;
      if (err.code !== this.lastError?.code) this.logger.warn("PKCS#11 token still down", err.toObject());
      this.lastError = err;
      this.scheduleReconnect();
    }
  }

  private call(req: DistributiveOmit<WorkerRequest, "id">, timeoutMs: number): Promise<WorkerReply & { ok: true }> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, timer: null };
      this.pending.set(id, p);
      this.holdProcess();
      const send = (): void => {
        if (this.pending.get(id) !== p) return; // failed while the thread was starting
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          this.holdProcess();
          reject(
            new HsmError(
              { code: HsmErrorCode.Timeout, module: this.opts.module },
              `the PKCS#11 module did not answer within ${timeoutMs} ms`,
            ),
          );
          // The thread may be stuck inside the module: a fresh one takes over on reconnect.
          void this.stopWorker();
        }, timeoutMs);
        worker.postMessage({ ...req, id } as WorkerRequest);
      };
      if (this.workerReady) send();
      else this.notSent.push(send);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const w = startModuleWorker(import.meta.url, "./tokenWorker.js");
    this.workerReady = false;
    this.notSent = [];
    const starting = setTimeout(() => gone("worker did not start"), WORKER_START_MS);
    starting.unref();
    w.on("message", (reply: WorkerReply) => {
      if (reply.id === 0) {
        // the thread is up (its modules loaded): requests go out, their timeouts start now
        clearTimeout(starting);
        if (this.worker !== w) return;
        this.workerReady = true;
        for (const send of this.notSent.splice(0)) send();
        return;
      }
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      this.holdProcess();
      if (p.timer !== null) clearTimeout(p.timer);
      if (reply.ok) p.resolve(reply);
      else p.reject(new HsmError(reply.error, reply.message));
    });
    const gone = (why: string): void => {
      clearTimeout(starting);
      if (this.worker !== w) return;
      this.worker = null;
      this.failPending(this.unavailable(why));
      void w.terminate();
    };
    w.on("error", (e) => gone(`worker failed: ${e.message}`));
    w.on("exit", () => gone("worker exited"));
    this.worker = w;
    this.holdProcess();
    return w;
  }

  /** The thread keeps the process alive only while a request waits for it (an idle signer can exit). */
  private holdProcess(): void {
    if (this.pending.size > 0) this.worker?.ref();
    else this.worker?.unref();
  }

  private async stopWorker(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failPending(this.unavailable("worker stopped"));
    if (w === null) return;
    // A thread stuck inside the module ends only when the call returns: do not wait for it forever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      w.terminate().catch(() => 0),
      new Promise((r) => {
        timer = setTimeout(r, 2000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private failPending(e: HsmError): void {
    this.notSent = [];
    for (const [id, p] of this.pending) {
      if (p.timer !== null) clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(e);
    }
    this.holdProcess();
  }

  private unavailable(why: string): HsmError {
    return new HsmError(
      { code: HsmErrorCode.Unavailable, module: this.opts.module },
      `PKCS#11 module ${this.name} is unavailable (${why}): nothing is signed until it is back`,
    );
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
