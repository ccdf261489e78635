import { type ApiClient, ApiError } from "../api/client.js";
import { SseParser } from "../api/sse.js";
import type { Alert } from "../api/types.js";

/** live: the server pushes every change; polling: the feed is down, changes are fetched every few seconds. */
export type LiveState = "connecting" | "live" | "polling" | "stopped";

export interface LiveFeedHandlers {
  onAlert(a: Alert): void;
  onState(s: LiveState): void;
  /** Fetches what changed since the last look (after a reconnect, and while polling). */
  catchUp(): Promise<void>;
}

export interface LiveFeedOptions {
  pollMs: number;
  /** First reconnect delay; doubles up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Alert changes as they happen: the monitor's server-sent-event feed (read with fetch, since it needs
 * the bearer token), with polling while it is down and reconnects with back-off.
 */
export class LiveFeed {
  private readonly abort = new AbortController();
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(
    private readonly client: ApiClient,
    private readonly h: LiveFeedHandlers,
    private readonly opts: LiveFeedOptions,
  ) {
    this.sleep = opts.sleep ?? defaultSleep;
  }

  start(): Promise<void> {
    return this.run();
  }

  stop(): void {
    this.abort.abort();
    this.h.onState("stopped");
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let backoff = this.opts.retryMs;
    while (!this.stopped) {
      this.h.onState("connecting");
      try {
        const res = await this.client.raw("/api/v1/feed", {
          signal: this.abort.signal,
          headers: { accept: "text/event-stream" },
        });
        this.h.onState("live");
        backoff = this.opts.retryMs;
        await this.h.catchUp();
        await this.read(res);
      } catch (e) {
        if (this.stopped || (e instanceof ApiError && e.status === 401)) return;
      }
      if (this.stopped) return;
      // Poll until it is time to try the feed again.
      this.h.onState("polling");
      const until = Date.now() + backoff;
      while (!this.stopped && Date.now() < until) {
        await this.h.catchUp().catch(() => {});
        await this.sleep(Math.min(this.opts.pollMs, Math.max(0, until - Date.now())), this.abort.signal);
      }
      backoff = Math.min(backoff * 2, this.opts.maxRetryMs);
    }
  }

  private async read(res: Response): Promise<void> {
    if (res.body === null) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const ev of parser.push(value)) {
        if (ev.event !== "alert") continue;
        try {
          this.h.onAlert(JSON.parse(ev.data) as Alert);
        } catch {
          // a malformed event is skipped; the next catch-up fetches the truth
        }
      }
    }
  }
}
