import type { ServerResponse } from "node:http";
import type { AlertService } from "../../../alerts/alertService.js";
import { type AlertView, toAlertView } from "../../../alerts/types.js";
import type { Logger } from "../../../util/logger.js";

interface Subscriber {
  ownerId: number | null;
  res: ServerResponse;
}

/**
 * Live alert feed (server-sent events). One poll of the store per second for the whole process, only
 * while someone listens; it sees alerts changed by any monitor process sharing the database.
 */
export class AlertFeed {
  private readonly subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private ping: NodeJS.Timeout | null = null;
  private since: number;
  private readonly sent = new Map<number, number>();

  constructor(
    private readonly alerts: AlertService,
    private readonly logger: Logger,
    private readonly pollMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.since = now();
  }

  subscribe(ownerId: number | null, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.write(": slashguard alert feed\n\n");
    const sub = { ownerId, res };
    this.subs.add(sub);
    res.on("close", () => {
      this.subs.delete(sub);
      if (this.subs.size === 0) this.idle();
    });
    if (this.timer === null) {
      this.since = this.now() - this.pollMs;
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.ping = setInterval(() => {
        for (const s of this.subs) s.res.write(": ping\n\n");
      }, 15_000);
    }
  }

  close(): void {
    for (const s of this.subs) s.res.end();
    this.subs.clear();
    this.idle();
  }

  private idle(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.ping !== null) clearInterval(this.ping);
    this.timer = null;
    this.ping = null;
  }

  private async poll(): Promise<void> {
    try {
      // Overlap one poll period: a row committed with an older updated_at than our last read is not lost.
      const rows = await this.alerts.list({ ownerId: null, updatedSince: this.since - this.pollMs, limit: 1000 });
      for (const a of rows.reverse()) {
        if (this.sent.get(a.id) === a.updatedAt) continue;
        this.sent.set(a.id, a.updatedAt);
        this.since = Math.max(this.since, a.updatedAt);
        this.broadcast(a.ownerId, toAlertView(a));
      }
      if (this.sent.size > 50_000) this.sent.clear();
    } catch (e) {
      this.logger.warn("Alert feed poll failed", {}, e);
    }
  }

  private broadcast(ownerId: number | null, view: AlertView): void {
    const line = `event: alert\ndata: ${JSON.stringify(view)}\n\n`;
    for (const s of this.subs) if (s.ownerId === null || s.ownerId === ownerId) s.res.write(line);
  }
}
