import { fdatasync } from "node:fs";
import { openStore } from "../../../src/store/openStore.js";
import type { SqlTx, Store, TxOptions } from "../../../src/store/types.js";
import type { SyncFn } from "../../../src/store/walSync.js";
import { AppError } from "../../../src/util/errors.js";

/** What the next write transaction of a store suffers. */
export type Fault =
  /** the transaction rolls back at its end (COMMIT fails): nothing was written */
  | "commit"
  /** COMMIT succeeds but its answer is lost (a dropped connection): written, yet the caller sees an error */
  | "ack"
  /** SQLite only: the fdatasync of the WAL after COMMIT fails (written, not known durable; the store then refuses all) */
  | "fsync";

export class InjectedFault extends AppError<{ code: "ERR_TEST_INJECTED_FAULT"; fault: Fault }> {
  constructor(fault: Fault) {
    super({ code: "ERR_TEST_INJECTED_FAULT", fault }, `injected ${fault} failure`);
  }
}

/**
 * A store that fails its next write transaction on demand (the engines take any Store). Read-only
 * transactions pass untouched.
 */
export class FaultyStore implements Store {
  private armed: Fault | null = null;
  private constructor(
    private readonly inner: Store,
    private readonly sync: { fail: boolean },
  ) {}

  static async open(url: string): Promise<FaultyStore> {
    const sync = { fail: false };
    const syncFn: SyncFn = (fd, cb) => {
      if (sync.fail) {
        sync.fail = false;
        const e = Object.assign(new Error("injected EIO"), { code: "EIO" });
        setImmediate(() => cb(e));
      } else fdatasync(fd, cb);
    };
    return new FaultyStore(await openStore(url, { syncFn }), sync);
  }

  get dialect(): Store["dialect"] {
    return this.inner.dialect;
  }
  get url(): string {
    return this.inner.url;
  }
  get schemaVersion(): number {
    return this.inner.schemaVersion;
  }

  /** Fails the next write transaction with `fault`. */
  arm(fault: Fault): void {
    if (fault === "fsync" && this.inner.dialect !== "sqlite") throw new Error("fsync faults are SQLite only");
    this.armed = fault;
  }

  /** Drops an armed fault that no transaction met. */
  disarm(): void {
    this.armed = null;
  }

  tx<T>(fn: (tx: SqlTx) => Promise<T>, opts?: TxOptions): Promise<T> {
    const fault = opts?.readOnly ? null : this.armed;
    if (fault === null) return this.inner.tx(fn, opts);
    this.armed = null;
    if (fault === "commit") {
      return this.inner.tx(async (tx) => {
        await fn(tx);
        throw new InjectedFault("commit");
      }, opts);
    }
    if (fault === "ack") {
      return this.inner.tx(fn, opts).then(() => {
        throw new InjectedFault("ack");
      });
    }
    this.sync.fail = true;
    return this.inner.tx(fn, opts);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
