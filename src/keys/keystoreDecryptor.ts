import { AppError } from "../util/errors.js";
import { workerModuleUrl } from "../util/moduleWorker.js";
import { WorkerPool } from "../util/workerPool.js";
import { DEFAULT_KDF_LIMITS, type KdfLimits } from "./eip2335.js";
import { KeyError } from "./errors.js";
import type { DecryptReply, DecryptRequest } from "./keystoreDecrypt.js";

const WORKER_MODULE = workerModuleUrl(import.meta.url, "./keystoreWorker.js");

export interface KeystoreDecryptorOptions {
  limits?: KdfLimits;
  /** Imports that may wait while one decrypts; more are refused (ERR_KEYMANAGER_BUSY). */
  maxWaiting?: number;
}

export interface KeystoreDecryptorModules {
  /** Runs one decryption (default: on the worker thread; tests gate it). */
  run?: (r: DecryptRequest) => Promise<DecryptReply>;
}

export class KeymanagerBusyError extends AppError<{ code: "ERR_KEYMANAGER_BUSY"; waiting: number }> {}

export interface DecryptedKey {
  secret: Uint8Array;
  pubkey: Uint8Array;
}

/**
 * Decrypts keystores of keymanager imports on one worker thread, one import at a time: the KDF (up
 * to 256 MiB and a second per keystore at the default limits) never runs on the event loop nor on
 * libuv's thread pool, memory holds one derivation at a time, and a few imports at most wait.
 */
export class KeystoreDecryptor {
  readonly limits: KdfLimits;
  private readonly pool: WorkerPool<DecryptRequest, DecryptReply> | null;
  private readonly run: (r: DecryptRequest) => Promise<DecryptReply>;
  private readonly maxWaiting: number;
  private chain: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(opts: KeystoreDecryptorOptions = {}, modules: KeystoreDecryptorModules = {}) {
    this.limits = opts.limits ?? DEFAULT_KDF_LIMITS;
    this.maxWaiting = opts.maxWaiting ?? 2;
    if (modules.run !== undefined) {
      this.pool = null;
      this.run = modules.run;
    } else {
      const pool = new WorkerPool<DecryptRequest, DecryptReply>({ module: WORKER_MODULE, size: 1 });
      this.pool = pool;
      this.run = (r) => pool.run(r);
    }
  }

  /** One import's keystores, in order: the key, or the typed error of that keystore. */
  decryptAll(items: readonly { json: string; password: string }[]): Promise<(DecryptedKey | KeyError)[]> {
    if (this.waiting > this.maxWaiting)
      return Promise.reject(
        new KeymanagerBusyError(
          { code: "ERR_KEYMANAGER_BUSY", waiting: this.waiting },
          "another keystore import is being decrypted; retry later",
        ),
      );
    this.waiting++;
    const run = async (): Promise<(DecryptedKey | KeyError)[]> => {
      const out: (DecryptedKey | KeyError)[] = [];
      for (const it of items) {
        const r = await this.run({ json: it.json, password: it.password, limits: this.limits });
        out.push(r.ok ? { secret: r.secret, pubkey: r.pubkey } : new KeyError(r.error, r.message));
      }
      return out;
    };
    const p = this.chain.then(run, run).finally(() => {
      this.waiting--;
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.pool?.close();
  }
}
