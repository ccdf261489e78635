import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Registry } from "prom-client";
import type { AlertService } from "../../alerts/index.js";
import { applySignerEvents } from "../../alerts/index.js";
import type { DoppelgangerEvents } from "../../detect/index.js";
import {
  checkFailedEvent,
  type DbSetupSeen,
  dbNotFailoverSafeEvent,
  detectedEvent,
  type SignerEvent,
  storeWentBackwardsEvent,
} from "../../detect/index.js";
import { createProtectionMetrics } from "../../protection/index.js";
import { type Clock, systemClock } from "../../util/clock.js";
import { errorMessage } from "../../util/errors.js";
import { HttpClient, limitsFor } from "../../util/httpClient.js";
import type { Logger } from "../../util/logger.js";
import { ConfigError, ConfigErrorCode } from "../config.js";

/** Where a signer's alerts go: the monitor's AlertService, here or on another machine. */
export interface SignerAlertSink {
  send(events: SignerEvent[]): Promise<void>;
}

/** The monitor runs in this process (`slashguard up`): straight into its alerts, owned by `ownerId`. */
export function inProcessSink(alerts: AlertService, ownerId: number | null): SignerAlertSink {
  return {
    send: (events) => applySignerEvents(alerts, events, ownerId),
  };
}

/** Bound later: `up` starts the signer before the monitor, so events wait here until it is up. */
export class LateAlertSink implements SignerAlertSink {
  private sink: SignerAlertSink | null = null;
  private waiting: SignerEvent[] = [];

  async attach(sink: SignerAlertSink): Promise<void> {
    this.sink = sink;
    const w = this.waiting.splice(0);
    if (w.length > 0) await sink.send(w);
  }

  async send(events: SignerEvent[]): Promise<void> {
    if (this.sink === null) this.waiting.push(...events);
    else await this.sink.send(events);
  }
}

/** Events kept while the monitor cannot be reached (the oldest go first beyond this). */
const MAX_QUEUED = 10_000;
const MAX_BACKOFF_MS = 30_000;
/** The monitor answers `{code, message}`; nothing longer is read. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A monitor on another machine: `POST {url}/api/v1/agent/events` with an agent token. Events are sent
 * in order and retried with back-off until the monitor takes them.
 */
export class HttpAlertSink implements SignerAlertSink {
  private queue: SignerEvent[] = [];
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly http: HttpClient;

  constructor(
    private readonly opts: { url: string; token: string; timeoutMs?: number },
    private readonly m: { logger: Logger; clock?: Clock },
  ) {
    this.http = new HttpClient(limitsFor(opts.timeoutMs ?? 10_000, MAX_ANSWER_BYTES));
  }

  async send(events: SignerEvent[]): Promise<void> {
    this.queue.push(...events);
    if (this.queue.length > MAX_QUEUED) {
      const dropped = this.queue.splice(0, this.queue.length - MAX_QUEUED);
      this.m.logger.error("Monitor unreachable: oldest alert events dropped", { dropped: dropped.length });
    }
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Waits up to `ms` for the queue to be delivered (a signer that refuses to start says why first). */
  async settle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Stops retrying (what is still queued is lost: it is in the logs). */
  async close(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private remove(sent: readonly SignerEvent[]): void {
    const done = new Set(sent);
    this.queue = this.queue.filter((e) => !done.has(e));
  }

  private async drain(): Promise<void> {
    let backoff = 1000;
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const batch = this.queue.slice(0, 500);
      try {
        const res = await this.http.request({
          url: `${this.opts.url.replace(/\/+$/, "")}/api/v1/agent/events`,
          method: "POST",
          headers: { authorization: `Bearer ${this.opts.token}` },
          json: { events: batch },
          signal: this.abort.signal,
        });
        if (res.status === 400 || res.status === 403) {
          // the monitor refuses these events for good (an older monitor, a bug, or a clear of an alert this
          // token did not raise: an operator resolves that one): do not retry them
          this.m.logger.error("Monitor refused alert events", { status: res.status, code: answerCode(res.body) });
          this.remove(batch);
          continue;
        }
        if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
        this.remove(batch);
        backoff = 1000;
      } catch (e) {
        this.m.logger.warn("Alert events not delivered to the monitor yet", {
          queued: this.queue.length,
          error: errorMessage(e),
        });
        if (this.abort.signal.aborted) return;
        await (this.m.clock ?? systemClock).sleep(backoff, this.abort.signal).catch(() => {});
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }
}

/** The `code` of the monitor's `{code, message}` answer, for the log. */
function answerCode(body: Buffer): string | null {
  try {
    const code = (JSON.parse(body.toString("utf8")) as { code?: unknown } | null)?.code;
    return typeof code === "string" ? code.slice(0, 64) : null;
  } catch {
    return null;
  }
}

/** The guard's events as alerts from `source` (one signer instance). */
export function guardEvents(sink: SignerAlertSink, source: string, logger: Logger): DoppelgangerEvents {
  const send = (events: SignerEvent[]): void => {
    sink.send(events).catch((e) => logger.error("Doppelganger alert not raised", {}, e));
  };
  return {
    detected: (keys) => send(keys.map((k) => detectedEvent(k, source))),
    cleared: (pubkey) => send([{ action: "clear", kind: "doppelganger_detected", pubkey, source }]),
    checkFailed: (reason, waiting) => send([checkFailedEvent(reason, waiting, source)]),
    checkRecovered: () => send([{ action: "clear", kind: "doppelganger_check_failed", pubkey: null, source }]),
  };
}

/** The name a signer process gives itself in its alerts (one per process). */
export const signerSource = (): string => `signer@${hostname()}:${process.pid}`;

/**
 * The monitor of `--monitor-url` / `--monitor-token-file` (config `ethereum.monitor_url`,
 * `ethereum.monitor_token_file`), for the alerts of the signer as a whole; null without one.
 */
export function monitorAlertSink(
  flags: Record<string, unknown>,
  config: Record<string, unknown>,
  configFile: string,
  logger: Logger,
): HttpAlertSink | null {
  const eth = (config.ethereum ?? {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const url = str(flags.monitorUrl) ?? str(eth.monitor_url);
  if (url === undefined) return null;
  const tokenFile = str(flags.monitorTokenFile) ?? str(eth.monitor_token_file);
  if (tokenFile === undefined)
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file: configFile, path: "ethereum.monitor_token_file" },
      "--monitor-url needs --monitor-token-file (an agent token of the monitor)",
    );
  return new HttpAlertSink({ url, token: readFileSync(tokenFile, "utf8").trim() }, { logger });
}

/** The database's alerts (docs/protection.md, "PostgreSQL high availability"). */
export interface StoreAlerts {
  /** Each replication state seen: raises db_not_failover_safe while `ok` is false, clears it after. */
  replication(seen: DbSetupSeen, ok: boolean): void;
  /** Refusals because the store went backwards so far, per chain: raises store_went_backwards when they grow. */
  behind(refusals: Record<string, number>): void;
}

export function storeAlerts(sink: SignerAlertSink, source: string, logger: Logger): StoreAlerts {
  const send = (events: SignerEvent[]): void => {
    sink.send(events).catch((e) => logger.error("Database alert not raised", {}, e));
  };
  let raised = false;
  let behindTotal = 0;
  return {
    replication: (seen, ok) => {
      if (!ok) send([dbNotFailoverSafeEvent(seen, source)]);
      else if (raised) send([{ action: "clear", kind: "db_not_failover_safe", pubkey: null, source }]);
      raised = !ok;
    },
    behind: (refusals) => {
      const total = Object.values(refusals).reduce((a, b) => a + b, 0);
      if (total > behindTotal) send([storeWentBackwardsEvent(refusals, source)]);
      behindTotal = total;
    },
  };
}

/** How often the refusal counters are read for store_went_backwards. */
const BEHIND_POLL_MS = 1000;

/**
 * Watches the protection metrics of `registry` for refusals of a store that went backwards
 * (`ERR_<chain>_STORE_BEHIND`, any chain) and reports them per chain; returns the stop function.
 */
export function watchStoreBehind(registry: Registry, alerts: StoreAlerts): () => void {
  const refusals = createProtectionMetrics(registry).refusals;
  const timer = setInterval(() => {
    void refusals.get().then((m) => {
      const per: Record<string, number> = {};
      for (const v of m.values)
        if (String(v.labels.code ?? "").endsWith("_STORE_BEHIND")) {
          const chain = String(v.labels.chain ?? "");
          per[chain] = (per[chain] ?? 0) + v.value;
        }
      if (Object.keys(per).length > 0) alerts.behind(per);
    });
  }, BEHIND_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
