import type { ServerResponse } from "node:http";
import type { AlertService } from "../../../alerts/index.js";
import { type AlertView, toAlertView } from "../../../alerts/index.js";
import { AppError } from "../../../util/errors.js";
import type { Logger } from "../../../util/logger.js";

export class FeedLimitError extends AppError<{ code: "ERR_FEED_LIMIT"; limit: number }> {}

/** Who listens: the owner scope, the token (feeds are capped per token) and how to re-check it. */
export interface FeedListener {
  ownerId: number | null;
  tokenId: number;
  /** Still valid? A revoked token's feeds are closed on the first tick it answers false. */
  stillValid(): Promise<boolean>;
}

interface Subscriber extends FeedListener {
  res: ServerResponse;
}

export interface AlertFeedOptions {
  pollMs?: number;
  /** Open feeds per token at most; one more is refused with ERR_FEED_LIMIT (429). */
  maxPerToken?: number;
}

export const DEFAULT_FEEDS_PER_TOKEN = 8;

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

  private readonly pollMs: number;
  private readonly maxPerToken: number;
  private checking = false;

  constructor(
    private readonly alerts: AlertService,
    private readonly logger: Logger,
    opts: AlertFeedOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.pollMs = opts.pollMs ?? 1000;
    this.maxPerToken = opts.maxPerToken ?? DEFAULT_FEEDS_PER_TOKEN;
    this.since = now();
  }

  /** Throws FeedLimitError (before anything is written) when the token has its limit of feeds open. */
  checkLimit(tokenId: number): void {
    let n = 0;
    for (const s of this.subs) if (s.tokenId === tokenId) n++;
    if (n >= this.maxPerToken) {
      throw new FeedLimitError(
        { code: "ERR_FEED_LIMIT", limit: this.maxPerToken },
        `this token has ${n} feeds open (the limit)`,
      );
    }
  }

  subscribe(listener: FeedListener, res: ServerResponse): void {
    this.checkLimit(listener.tokenId);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.write(": slashguard alert feed\n\n");
    const sub = { ...listener, res };
    this.subs.add(sub);
    res.on("close", () => {
      this.subs.delete(sub);
      if (this.subs.size === 0) this.idle();
    });
    if (this.timer === null) {
      this.since = this.now() - this.pollMs;
      this.timer = setInterval(() => {
        void this.recheck();
        void this.poll();
      }, this.pollMs);
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

  /** Ends the feeds of tokens revoked since they opened (each token checked once per tick). */
  private async recheck(): Promise<void> {
    if (this.checking) return; // a slow store: one check at a time
    this.checking = true;
    try {
      await this.recheckTokens();
    } finally {
      this.checking = false;
    }
  }

  private async recheckTokens(): Promise<void> {
    const byToken = new Map<number, Subscriber[]>();
    for (const s of this.subs) byToken.set(s.tokenId, [...(byToken.get(s.tokenId) ?? []), s]);
    for (const subs of byToken.values()) {
      let ok = true;
      try {
        ok = await subs[0]!.stillValid();
      } catch (e) {
        this.logger.warn("Alert feed token check failed", {}, e);
      }
      if (ok) continue;
      for (const s of subs) {
        this.subs.delete(s);
        s.res.end();
      }
    }
    if (this.subs.size === 0) this.idle();
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
