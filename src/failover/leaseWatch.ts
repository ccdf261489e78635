import { errorMessage } from "../util/errors.js";
import type { LeaseRecord, LeaseStore } from "./lease/lease.js";
import type { Monotonic } from "./monotonic.js";

/**
 * The daemon's view of the lease: the last record read (or why it could not be read), and when this
 * process first saw the latest epoch ended, on its own monotonic clock.
 */
export class LeaseWatch {
  last: LeaseRecord | null = null;
  error: string | null = null;
  private endedSeen: { epoch: bigint; at: number } | null = null;

  constructor(
    private readonly store: LeaseStore,
    private readonly clock: Monotonic,
  ) {}

  async read(): Promise<void> {
    try {
      const rec = await this.store.read();
      this.last = rec;
      this.error = null;
      // First sight of an ended epoch, on our own monotonic clock (time rules count from here, see
      // promotion.confirmOldStopped); only the latest epoch is kept.
      if (!rec.live && rec.epoch > 0n && this.endedSeen?.epoch !== rec.epoch) {
        this.endedSeen = { epoch: rec.epoch, at: this.clock.now() };
      }
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** When this process first saw `epoch` ended (monotonic), or null. */
  endedSeenAt(epoch: bigint): number | null {
    return this.endedSeen?.epoch === epoch ? this.endedSeen.at : null;
  }
}
