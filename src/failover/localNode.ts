import { generateDummyKey, installedKeyAddress, installKey, type ValidatorKeyInfo } from "./keyFiles.js";
import type { NodeControl } from "./nodeControl.js";
import type { InstalledKey } from "./status.js";

/**
 * The local CometBFT node and, above all, which key it may hold in memory. The node reads its key file
 * only at start, so what matters is the key it was started with, not the file now. A node found running
 * that this process did not start counts as holding an unknown key, unless the key file has been a dummy
 * since the node was last seen stopped (then any restart, by systemd or a person, loaded the dummy).
 */
export class LocalNode {
  running: boolean | null = null;
  /** Key the node would load at its next start. */
  fileKey: InstalledKey = "unknown";
  /** Key the running node loaded; null when it is not running. */
  loadedKey: InstalledKey | null = null;
  private dummySinceStop = false;

  constructor(
    private readonly keyFile: string,
    private readonly validator: ValidatorKeyInfo,
    private readonly control: NodeControl,
  ) {}

  /** Refreshes what the node runs with; throws when the is-running probe fails (running becomes unknown). */
  async probe(): Promise<void> {
    const addr = await installedKeyAddress(this.keyFile);
    this.fileKey = addr === null ? "unknown" : addr === this.validator.address ? "validator" : "dummy";
    if (this.fileKey !== "dummy") this.dummySinceStop = false;
    try {
      this.running = await this.control.isRunning();
    } catch (e) {
      this.running = null;
      throw e;
    }
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

  /** Dummy key first (whatever restarts the node now cannot sign), then stop, confirmed. */
  async stop(): Promise<void> {
    await installKey(this.keyFile, generateDummyKey(this.validator.type));
    this.fileKey = "dummy";
    await this.control.stop();
    this.running = false;
    this.loadedKey = null;
    this.dummySinceStop = true;
  }

  /** Starts the node with a fresh dummy key: it follows the chain, and its votes count for nothing. */
  async startPassive(): Promise<void> {
    if (this.fileKey !== "dummy") await installKey(this.keyFile, generateDummyKey(this.validator.type));
    this.fileKey = "dummy";
    this.dummySinceStop = true;
    await this.control.start();
    this.running = true;
    this.loadedKey = "dummy";
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
