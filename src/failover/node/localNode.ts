import type { Logger } from "../../util/logger.js";
import { realTimers, type Timers, withTimers } from "../monotonic.js";
import type { InstalledKey } from "../status.js";
import { generateDummyKey, installedKeyAddress, installKey, readKeyFile, type ValidatorKeyInfo } from "./keyFiles.js";
import type { NodeControl } from "./nodeControl.js";

/** How the node's key file is read and replaced (injected by the fault-schedule model to fill the disk). */
export interface KeyFileIo {
  /** Address of the key in the file, or null when missing or unreadable. */
  address(path: string): Promise<string | null>;
  install(path: string, content: string): Promise<void>;
  /** Reads and checks the validator key kept by slashguard (readKeyFile). */
  readValidatorKey(path: string): Promise<{ info: ValidatorKeyInfo; content: string }>;
}

export const fsKeyFileIo: KeyFileIo = {
  address: installedKeyAddress,
  install: installKey,
  readValidatorKey: readKeyFile,
};

export interface LocalNodeIo {
  keys?: Pick<KeyFileIo, "address" | "install">;
  timers?: Timers;
  /** A dummy-key write that has not finished by then counts as failed (a hung filesystem). */
  keyWriteTimeoutMs?: number;
  logger?: Logger;
}

/**
 * The local CometBFT node and, above all, which key it may hold in memory. The node reads its key file
 * only at start, so what matters is the key it was started with, not the file now. A node found running
 * that this process did not start counts as holding an unknown key, unless the key file has been a dummy
 * since the node was last seen stopped (then any restart, by systemd or a person, loaded the dummy).
 */
export class LocalNode {
  running: boolean | null = null;
  /** A start is in progress: the node may come up any moment (reported as running, never as stopped). */
  starting = false;
  /** Key the node would load at its next start. */
  fileKey: InstalledKey = "unknown";
  /** Key the running node loaded; null when it is not running. */
  loadedKey: InstalledKey | null = null;
  private dummySinceStop = false;
  private readonly keys: Pick<KeyFileIo, "address" | "install">;
  private readonly timers: Timers;

  constructor(
    private readonly keyFile: string,
    private readonly validator: ValidatorKeyInfo,
    private readonly control: NodeControl,
    private readonly io: LocalNodeIo = {},
  ) {
    this.keys = io.keys ?? fsKeyFileIo;
    this.timers = io.timers ?? realTimers;
  }

  /** Refreshes what the node runs with; throws when the is-running probe fails (running becomes unknown). */
  async probe(): Promise<void> {
    const addr = await this.keys.address(this.keyFile);
    this.fileKey = addr === null ? "unknown" : addr === this.validator.address ? "validator" : "dummy";
    if (this.fileKey !== "dummy") this.dummySinceStop = false;
    let running: boolean;
    try {
      running = await this.control.isRunning();
    } catch (e) {
      this.running = null;
      throw e;
    }
    // a start in progress is not "stopped", whatever the probe saw before the node came up
    this.running = running || this.starting;
    if (!this.running) {
      this.loadedKey = null;
      this.dummySinceStop = this.fileKey === "dummy";
    } else if (this.loadedKey === null) {
      this.loadedKey = this.dummySinceStop ? "dummy" : "unknown";
    }
  }

  /** Running (or maybe running) with anything but the dummy key this process gave it. */
  get mayHoldValidatorKey(): boolean {
    return this.running !== false && this.loadedKey !== null && this.loadedKey !== "dummy";
  }

  /**
   * Stops the node (the kill path included), confirmed, and only then replaces the key file with a dummy,
   * so whatever restarts the node later cannot sign. The key write never prevents or delays the stop; a
   * failed or hung write leaves the file "unknown" (the passive start writes it again before any start).
   * Throws when the node could not be stopped (after still trying the dummy key).
   */
  async stop(): Promise<void> {
    let stopError: unknown = null;
    try {
      await this.control.stop();
      this.running = false;
      this.loadedKey = null;
    } catch (e) {
      stopError = e;
    }
    try {
      const content = generateDummyKey(this.validator.type);
      await withTimers(
        this.timers,
        this.keys.install(this.keyFile, content),
        this.io.keyWriteTimeoutMs ?? 10_000,
        () => new Error("dummy key write timed out"),
      );
      this.fileKey = "dummy";
      this.dummySinceStop = stopError === null;
    } catch (e) {
      this.fileKey = "unknown";
      this.dummySinceStop = false;
      this.io.logger?.error("Could not write the dummy key after stopping the node", { file: this.keyFile }, e);
    }
    if (stopError !== null) throw stopError;
  }

  /** Starts the node with a fresh dummy key: it follows the chain, and its votes count for nothing. */
  async startPassive(): Promise<void> {
    if (this.fileKey !== "dummy") await this.keys.install(this.keyFile, generateDummyKey(this.validator.type));
    this.fileKey = "dummy";
    this.dummySinceStop = true;
    await this.startWith("dummy");
  }

  /** Puts the validator key where the node reads it (promotion; the node is stopped). */
  async installValidatorKey(content: string): Promise<void> {
    this.validatorKeyInstalled();
    await this.keys.install(this.keyFile, content);
  }

  /** Starts the node with the validator key in place (promotion); `signal` aborts the start. */
  async startValidator(signal?: AbortSignal): Promise<void> {
    await this.startWith("validator", signal);
  }

  private async startWith(key: InstalledKey, signal?: AbortSignal): Promise<void> {
    this.starting = true;
    this.running = true;
    this.loadedKey = key === "dummy" ? "dummy" : "unknown";
    try {
      await this.control.start(signal);
    } catch (e) {
      // it may have come up after all: unknown until a probe or a stop says otherwise
      this.running = null;
      throw e;
    } finally {
      this.starting = false;
    }
    this.running = true;
    this.loadedKey = key;
  }

  /** The validator key is about to be put in place (promotion). */
  validatorKeyInstalled(): void {
    this.fileKey = "validator";
    this.dummySinceStop = false;
    this.loadedKey = this.running === false ? null : "unknown";
  }

  /** The node runs with the validator key (promoted, or found so under our own lease). */
  startedWithValidator(): void {
    this.running = true;
    this.loadedKey = "validator";
  }

  /** After a failed promotion: unless confirmed stopped since the key went in, the node may hold it. */
  afterFailedPromotion(): void {
    if (this.fileKey === "validator" || this.loadedKey === "validator") this.loadedKey = "unknown";
  }
}
