import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Registry } from "prom-client";
import { AlertService } from "../../alerts/alertService.js";
import { NotificationDispatcher } from "../../alerts/dispatcher.js";
import { createAlertMetrics } from "../../alerts/metrics.js";
import { AlertRouter } from "../../alerts/router.js";
import { buildSinks } from "../../alerts/sinkConfig.js";
import { EmailSink } from "../../alerts/sinks/emailSink.js";
import type { Preset } from "../../chains/ethereum/sszTypes.js";
import { FleetDetector } from "../../detect/fleet/fleetDetector.js";
import { detectKeys, loadSweepInput } from "../../detect/fleet/fleetSnapshot.js";
import { FLEET_KINDS } from "../../detect/types.js";
import { FleetQueries } from "../../fleet/fleetQueries.js";
import { pruneFleetHistory } from "../../fleet/historyRetention.js";
import { IngestService } from "../../fleet/ingestService.js";
import { MaintenanceService } from "../../fleet/maintenanceService.js";
import { createFleetMetrics } from "../../fleet/metrics.js";
import { ReportRateLimiter } from "../../fleet/reportRateLimit.js";
import { TokenService } from "../../fleet/tokens.js";
import { buildHttpApp } from "../../http/app.js";
import { dashboardRoutes } from "../../http/routes/dashboard/dashboardRoutes.js";
import { loadStaticBundle } from "../../http/routes/dashboard/staticBundle.js";
import { eventRoutes } from "../../http/routes/monitor/eventRoutes.js";
import { AlertFeed } from "../../http/routes/monitor/feed.js";
import { monitorRoutes } from "../../http/routes/monitor/monitorRoutes.js";
import { timelineRoutes } from "../../http/routes/monitor/timelineRoutes.js";
import { httpStatusOf } from "../../http/statusCodes.js";
import type { HealthReport } from "../../signer/service.js";
import { notificationsRepository } from "../../store/alerts/notificationsRepository.js";
import { hostsRepository } from "../../store/fleet/hostsRepository.js";
import { sweepRepository } from "../../store/fleet/sweepRepository.js";
import { DEFAULT_STORE_URL, openStore } from "../../store/openStore.js";
import type { Store } from "../../store/types.js";
import { errorMessage } from "../../util/errors.js";
import { createLogger, type Logger, type LogLevel } from "../../util/logger.js";
import { pick, readYamlFile } from "../config.js";
import { defaultMaxConnections } from "../httpServer.js";
import { defaultDashboardDir } from "./dashboardDir.js";
import { type RunningWatch, startEthereumWatch } from "./ethereumWatch.js";
import { readMonitorConfig } from "./monitorConfig.js";

export interface MonitorOptions {
  db?: string;
  host?: string;
  port?: number;
  config?: string;
  /** The YAML document itself (instead of --config). */
  configDoc?: Record<string, unknown>;
  webhook?: string;
  logLevel?: LogLevel;
  /** Built dashboard to serve at `/` (default: the one shipped in the package). */
  dashboardDir?: string;
  /** Beacon nodes for the foreign-signer check (win over `monitor.ethereum.beacon_nodes`). */
  beaconNode?: string[];
  /** Owner of alerts about keys no agent reports (wins over `monitor.ethereum.owner`). */
  ethereumOwner?: string;
  /** SSZ preset the process already uses (`up`: the signer's); else the beacon node's. */
  preset?: Preset;
}

/** How often history retention runs (it deletes by age: an hour late is no matter). */
const RETENTION_INTERVAL_MS = 3_600_000;

/** What `slashguard up` shares with the monitor when both run in one process. */
export interface MonitorModules {
  store?: Store;
  logger?: Logger;
  registry?: Registry;
  /** Mount the monitor API on this app (before it listens) instead of serving it on a port of its own. */
  http?: FastifyInstance;
}

export interface RunningMonitor {
  url: string;
  store: Store;
  tokens: TokenService;
  alerts: AlertService;
  /** Runs one full detection pass now (tests, and `up` after start-up). */
  sweep(): Promise<void>;
  /** The continuous foreign-signer check, when beacon nodes are configured. */
  ethereum: RunningWatch | null;
  stop(): Promise<void>;
}

/**
 * Starts the fleet monitor: store, HTTP API (ingestion, alerts, hosts, keys, maintenance, history,
 * feed, /metrics, /healthcheck), the sweep loop and the notification dispatcher.
 */
export async function startMonitor(opts: MonitorOptions, modules: MonitorModules = {}): Promise<RunningMonitor> {
  const configFile = opts.config ?? "";
  const doc = opts.configDoc ?? readYamlFile(opts.config);
  const { monitor: cfg, sinks: sinkConfigs } = readMonitorConfig(doc, configFile);
  const ownLogger =
    modules.logger === undefined
      ? createLogger({ level: pick(opts.logLevel, doc.log_level as LogLevel | undefined, "info") })
      : null;
  const logger = (modules.logger ?? ownLogger!.logger).child({ service: "monitor" });
  const sinks = buildSinks(sinkConfigs, opts.webhook);
  const store = modules.store ?? (await openStore(pick(opts.db, doc.db as string | undefined, DEFAULT_STORE_URL)));
  const registry = modules.registry ?? new Registry();
  if (modules.registry === undefined) collectDefaultMetrics({ register: registry, prefix: "slashguard_" });
  const fleetMetrics = createFleetMetrics(registry);
  const alertMetrics = createAlertMetrics(registry);
  const now = (): number => Date.now();

  const router = new AlertRouter(sinks);
  const dispatcher = new NotificationDispatcher(
    { pollMs: cfg.notification_poll, leaseMs: cfg.notification_lease },
    { store, router, logger, metrics: alertMetrics },
  );
  const alerts = new AlertService(
    { dedupWindowMs: cfg.dedup_window, resolveAfterMs: cfg.resolve_after, now },
    { store, router, logger, metrics: alertMetrics, onQueued: () => dispatcher.kick() },
  );
  const detector = new FleetDetector({
    silentAfterIntervals: cfg.silent_after_intervals,
    keyMovedWindowMs: cfg.key_moved_window,
    workers: cfg.detect_workers,
    batchSize: cfg.detect_batch_size,
  });
  const ingest = new IngestService(
    { now, historyMax: cfg.history.max_intervals, reportsKept: cfg.history.reports_kept },
    {
      store,
      logger,
      metrics: fleetMetrics,
      rateLimit: new ReportRateLimiter({ perMinute: cfg.report_rate.per_minute, burst: cfg.report_rate.burst, now }),
      hooks: {
        // double_active at once: the alert and its notification commit with the report that caused them.
        onKeysChanged: async (tx, keys, at) => alerts.raiseInTx(tx, await detectKeys(tx, keys, detector, at), at),
        onCommitted: () => dispatcher.kick(),
      },
    },
  );
  const tokens = new TokenService(store, now);
  const queries = new FleetQueries(store, cfg.silent_after_intervals);
  const maintenance = new MaintenanceService(store);
  const feed = new AlertFeed(alerts, logger, { maxPerToken: cfg.feeds_per_token });

  const startedAt = now();
  let sweeping: Promise<void> | null = null;
  const sweepOnce = async (force: boolean): Promise<void> => {
    const started = performance.now();
    const t = now();
    if (!(await store.tx((tx) => sweepRepository.claimSweep(tx, t, force ? 0 : Math.floor(cfg.sweep_interval * 0.8)))))
      return;
    const input = await loadSweepInput(store, t, cfg.key_moved_window);
    // Silence counts from when this monitor could hear a host: after a restart its agents need a moment
    // to reach it again, and a monitor that was down must not call the whole fleet silent.
    for (const h of input.hosts) h.lastReportAt = Math.max(h.lastReportAt, startedAt);
    const detections = await detector.fullPass(input.groups, input.hosts, t);
    await alerts.reconcile(detections, FLEET_KINDS, t);
    alertMetrics.passSeconds.observe((performance.now() - started) / 1000);
    const counts = await store.tx((tx) => notificationsRepository.countByState(tx), { readOnly: true });
    for (const state of ["pending", "sent", "dead"]) alertMetrics.outbox.set({ state }, counts[state] ?? 0);
  };
  const sweep = async (force = true): Promise<void> => {
    while (sweeping !== null) await sweeping;
    sweeping = sweepOnce(force).finally(() => {
      sweeping = null;
    });
    await sweeping;
  };
  const timer = setInterval(() => {
    if (sweeping === null) sweep(false).catch((e) => logger.error("Detection pass failed", {}, e));
  }, cfg.sweep_interval);
  // History retention, in small transactions: once at start, then hourly.
  let stopped = false;
  let pruning: Promise<void> | null = null;
  const prune = (): void => {
    pruning ??= pruneFleetHistory(store, now() - cfg.history.retention, () => stopped)
      .then((n) => {
        if (n > 0) logger.info("Fleet history past its retention deleted", { rows: n });
      })
      .catch((e) => logger.error("Fleet history retention failed", {}, e))
      .finally(() => {
        pruning = null;
      });
  };
  const retentionTimer = setInterval(prune, RETENTION_INTERVAL_MS);
  retentionTimer.unref();
  prune();

  const health = async (): Promise<HealthReport> => {
    try {
      await store.ping();
      return { ok: true, checks: { store: { ok: true } } };
    } catch (e) {
      return { ok: false, checks: { store: { ok: false, detail: errorMessage(e) } } };
    }
  };
  const app =
    modules.http ??
    (await buildHttpApp(
      { bodyLimit: cfg.max_report_bytes, limits: { maxConnections: defaultMaxConnections() } },
      { logger, registry, health, statusOf: httpStatusOf },
    ));
  await monitorRoutes(app, {
    tokens,
    ingest,
    queries,
    maintenance,
    alerts,
    feed,
    now,
    metrics: fleetMetrics,
    maxReportBytes: cfg.max_report_bytes,
    deleteHost: async (ownerId, ref) => {
      const host = await store.tx(async (tx) => {
        const h = await hostsRepository.findHost(tx, ownerId, ref);
        if (h !== null) await hostsRepository.deleteHost(tx, h.id, now());
        return h;
      });
      if (host !== null) ingest.forgetHost(host.ownerId, host.name);
      return host !== null;
    },
  });
  await timelineRoutes(app, {
    tokens,
    queries,
    alerts,
    store,
    now,
    signingOwner: opts.ethereumOwner ?? cfg.ethereum.owner,
  });
  const dashboardDir = cfg.dashboard ? (opts.dashboardDir ?? defaultDashboardDir()) : null;
  const bundle = dashboardDir === null ? null : loadStaticBundle(dashboardDir);
  if (dashboardDir !== null) {
    if (bundle === null) logger.warn("Dashboard not built: / answers 404", { dir: dashboardDir });
    await app.register(dashboardRoutes, { bundle });
  }
  await eventRoutes(app, { tokens, alerts });
  const ethereum = await startEthereumWatch({
    cfg: { ...cfg.ethereum, ...(opts.ethereumOwner === undefined ? {} : { owner: opts.ethereumOwner }) },
    ...(opts.beaconNode === undefined ? {} : { beaconNodes: opts.beaconNode }),
    store,
    alerts,
    logger,
    registry,
    ...(opts.preset === undefined ? {} : { preset: opts.preset }),
  });

  const stop = async (): Promise<void> => {
    clearInterval(timer);
    clearInterval(retentionTimer);
    stopped = true;
    await pruning;
    await ethereum?.stop();
    feed.close();
    if (modules.http === undefined) await app.close();
    await ingest.close();
    while (sweeping !== null) await sweeping.catch(() => {});
    await dispatcher.stop();
    await detector.close();
    for (const s of sinks) if (s.sink instanceof EmailSink) s.sink.close();
    if (modules.store === undefined) await store.close();
    ownLogger?.pino.flush();
  };
  try {
    dispatcher.start();
    const address =
      modules.http === undefined
        ? await app.listen({ host: pick(opts.host, undefined, cfg.host), port: pick(opts.port, undefined, cfg.port) })
        : "";
    logger.info(address === "" ? "Monitor mounted on the signer's HTTP server" : "Monitor listening", {
      address,
      store: store.url,
      sinks: router.names,
      dashboard: bundle !== null,
    });
    return { url: address, store, tokens, alerts, sweep: () => sweep(true), ethereum, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
