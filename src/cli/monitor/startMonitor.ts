import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { AlertService, AlertStateSink } from "../../alerts/index.js";
import { buildSinks } from "../../alerts/index.js";
import type { Preset } from "../../chains/ethereum/index.js";
import type { TokenService } from "../../fleet/index.js";
import {
  AlertFeed,
  buildHttpApp,
  dashboardRoutes,
  eventRoutes,
  httpStatusOf,
  loadStaticBundle,
  monitorRoutes,
  timelineRoutes,
} from "../../http/index.js";
import type { RunningWatch } from "../../monitor/index.js";
import { startFleetMonitor } from "../../monitor/index.js";
import type { HealthReport } from "../../signer/index.js";
import type { Store } from "../../store/index.js";
import { DEFAULT_STORE_URL, openStore } from "../../store/index.js";
import { errorMessage } from "../../util/errors.js";
import { createLogger, type Logger, type LogLevel } from "../../util/logger.js";
import { pick, readYamlFile } from "../config.js";
import { defaultMaxConnections } from "../httpServer.js";
import { type EventsFlags, setUpEvents } from "../signer/eventsSetup.js";
import { defaultDashboardDir } from "./dashboardDir.js";
import { readMonitorConfig } from "./monitorConfig.js";

export interface MonitorOptions extends EventsFlags {
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

/** What `slashguard up` shares with the monitor when both run in one process. */
export interface MonitorModules {
  store?: Store;
  logger?: Logger;
  registry?: Registry;
  /** Mount the monitor API on this app (before it listens) instead of serving it on a port of its own. */
  http?: FastifyInstance;
  /** Alert state changes to the message bus (`up`: the signer's outbox). */
  events?: AlertStateSink | null;
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
 * `slashguard monitor` (and the monitor part of `up`): reads the config, starts the fleet monitor
 * (src/monitor/) and serves it over HTTP (ingestion, alerts, hosts, keys, maintenance, history, feed,
 * /metrics, /healthcheck, the dashboard).
 */
export async function startMonitor(opts: MonitorOptions, modules: MonitorModules = {}): Promise<RunningMonitor> {
  const configFile = opts.config ?? "";
  const doc = opts.configDoc ?? readYamlFile(opts.config);
  const { monitor: cfg, sinks: sinkConfigs } = readMonitorConfig(doc, configFile);
  if (opts.ethereumOwner !== undefined) cfg.ethereum.owner = opts.ethereumOwner;
  const ownLogger =
    modules.logger === undefined
      ? createLogger({ level: pick(opts.logLevel, doc.log_level as LogLevel | undefined, "info") })
      : null;
  const logger = (modules.logger ?? ownLogger!.logger).child({ service: "monitor" });
  const sinks = buildSinks(sinkConfigs, opts.webhook);
  const storeUrl = pick(opts.db, doc.db as string | undefined, DEFAULT_STORE_URL);
  const store = modules.store ?? (await openStore(storeUrl));
  const registry = modules.registry ?? new Registry();
  if (modules.registry === undefined) collectDefaultMetrics({ register: registry, prefix: "slashguard_" });
  const now = (): number => Date.now();
  // standalone: --events of its own (with `up` the signer's registry already holds the event metrics)
  const bus =
    modules.registry === undefined
      ? setUpEvents(
          opts,
          doc,
          configFile,
          // a store handed in (tests) has no URL with credentials of its own: the thread uses store.url
          { store, ...(modules.store === undefined ? { storeUrl } : {}), logger, registry },
          "alert.<alert kind>.<state>",
        )
      : null;
  const monitor = await startFleetMonitor(
    {
      cfg,
      ...(opts.beaconNode === undefined ? {} : { beaconNodes: opts.beaconNode }),
      ...(opts.preset === undefined ? {} : { preset: opts.preset }),
    },
    { store, logger, registry, sinks, events: bus?.sink ?? modules.events ?? null },
  );
  bus?.publisher.start();
  const { alerts, tokens } = monitor;
  const feed = new AlertFeed(alerts, logger, { maxPerToken: cfg.feeds_per_token });
  let app: FastifyInstance | null = modules.http ?? null;

  const stop = async (): Promise<void> => {
    feed.close();
    if (modules.http === undefined) await app?.close();
    await monitor.stop();
    await bus?.publisher.stop();
    if (modules.store === undefined) await store.close();
    ownLogger?.pino.flush();
  };
  try {
    const health = async (): Promise<HealthReport> => {
      try {
        await store.ping();
        return { ok: true, checks: { store: { ok: true } } };
      } catch (e) {
        return { ok: false, checks: { store: { ok: false, detail: errorMessage(e) } } };
      }
    };
    app ??= await buildHttpApp(
      { bodyLimit: cfg.max_report_bytes, limits: { maxConnections: defaultMaxConnections() } },
      { logger, registry, health, statusOf: httpStatusOf },
    );
    const { ingest, queries, maintenance } = monitor;
    await monitorRoutes(app, {
      tokens,
      ingest,
      queries,
      maintenance,
      alerts,
      feed,
      now,
      metrics: monitor.fleetMetrics,
      maxReportBytes: cfg.max_report_bytes,
      deleteHost: monitor.deleteHost,
    });
    await timelineRoutes(app, { tokens, queries, alerts, store, now, signingOwner: cfg.ethereum.owner });
    const dashboardDir = cfg.dashboard ? (opts.dashboardDir ?? defaultDashboardDir()) : null;
    const bundle = dashboardDir === null ? null : loadStaticBundle(dashboardDir);
    if (dashboardDir !== null) {
      if (bundle === null) logger.warn("Dashboard not built: / answers 404", { dir: dashboardDir });
      await app.register(dashboardRoutes, { bundle });
    }
    await eventRoutes(app, { tokens, alerts });
    const address =
      modules.http === undefined
        ? await app.listen({ host: pick(opts.host, undefined, cfg.host), port: pick(opts.port, undefined, cfg.port) })
        : "";
    logger.info(address === "" ? "Monitor mounted on the signer's HTTP server" : "Monitor listening", {
      address,
      store: store.url,
      sinks: monitor.sinkNames,
      dashboard: bundle !== null,
    });
    return { url: address, store, tokens, alerts, sweep: monitor.sweep, ethereum: monitor.ethereum, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
