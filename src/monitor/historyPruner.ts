import { pruneFleetHistory } from "../fleet/index.js";
import type { Store } from "../store/index.js";
import type { Logger } from "../util/logger.js";

/** How often history retention runs (it deletes by age: an hour late is no matter). */
const RETENTION_INTERVAL_MS = 3_600_000;

/** Fleet history retention, in small transactions: once at start, then hourly. */
export class HistoryPruner {
  private stopped = false;
  private pruning: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly opts: { retentionMs: number; now: () => number },
    private readonly modules: { store: Store; logger: Logger },
  ) {
    this.timer = setInterval(() => this.prune(), RETENTION_INTERVAL_MS);
    this.timer.unref();
    this.prune();
  }

  /** Stops the timer; a running prune stops between its transactions. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    await this.pruning;
  }

  private prune(): void {
    const { store, logger } = this.modules;
    this.pruning ??= pruneFleetHistory(store, this.opts.now() - this.opts.retentionMs, () => this.stopped)
      .then((n) => {
        if (n > 0) logger.info("Fleet history past its retention deleted", { rows: n });
      })
      .catch((e) => logger.error("Fleet history retention failed", {}, e))
      .finally(() => {
        this.pruning = null;
      });
  }
}
