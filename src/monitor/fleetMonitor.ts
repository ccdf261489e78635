import type { Registry } from "prom-client";
import type { AlertStateSink } from "../alerts/index.js";
import {
  AlertRouter,
  AlertService,
  createAlertMetrics,
  EmailSink,
  NotificationDispatcher,
  type RoutedSink,
} from "../alerts/index.js";
import type { Preset } from "../chains/ethereum/index.js";
import { FleetDetector } from "../detect/index.js";
import {
  createFleetMetrics,
  type FleetMetrics,
  FleetQueries,
  IngestService,
  MaintenanceService,
  ReportRateLimiter,
  TokenService,
} from "../fleet/index.js";
import type { Store } from "../store/index.js";
import { hostsRepository } from "../store/index.js";
import type { Logger } from "../util/logger.js";
import { type RunningWatch, startEthereumWatch } from "./ethereumWatch.js";
import { HistoryPruner } from "./historyPruner.js";
import { ingestHooks } from "./ingestHooks.js";
import type { MonitorSection } from "./monitorConfig.js";
import { SweepLoop } from "./sweepLoop.js";

export interface FleetMonitorOptions {
  /** The validated `monitor:` section. */
  cfg: MonitorSection;
  /** Beacon nodes for the foreign-signer check (win over `cfg.ethereum.beacon_nodes`). */
  beaconNodes?: string[];
  /** SSZ preset the process already uses; else the beacon node's. */
  preset?: Preset;
}

export interface FleetMonitorModules {
  store: Store;
  logger: Logger;
  registry: Registry;
  /** Where notifications go; the monitor closes them when it stops. */
  sinks: readonly RoutedSink[];
  /** Alert state changes to the message bus (--events), in the changing transaction. */
  events?: AlertStateSink | null;
}

/** The running monitor without its transport: what the HTTP routes serve. */
export interface FleetMonitor {
  alerts: AlertService;
  ingest: IngestService;
  tokens: TokenService;
  queries: FleetQueries;
  maintenance: MaintenanceService;
  fleetMetrics: FleetMetrics;
  /** Names of the notification sinks. */
  sinkNames: readonly string[];
  /** The continuous foreign-signer check, when beacon nodes are configured. */
  ethereum: RunningWatch | null;
  /** Runs one full detection pass now (tests, and `up` after start-up). */
  sweep(): Promise<void>;
  /** Deletes a host of the owner (id or name); false when there is none. */
  deleteHost(ownerId: number | null, ref: string): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Starts the fleet monitor on a store: ingestion (with double_active at once), alerts and their
 * notification dispatcher, the sweep loop, history retention and the foreign-signer check.
 */
export async function startFleetMonitor(o: FleetMonitorOptions, m: FleetMonitorModules): Promise<FleetMonitor> {
  const { cfg } = o;
  const { store, logger } = m;
  const fleetMetrics = createFleetMetrics(m.registry);
  const alertMetrics = createAlertMetrics(m.registry);
  const now = (): number => Date.now();

  const router = new AlertRouter(m.sinks);
  const dispatcher = new NotificationDispatcher(
    { pollMs: cfg.notification_poll, leaseMs: cfg.notification_lease },
    { store, router, logger, metrics: alertMetrics },
  );
  const alerts = new AlertService(
    { dedupWindowMs: cfg.dedup_window, resolveAfterMs: cfg.resolve_after, now },
    { store, router, logger, metrics: alertMetrics, onQueued: () => dispatcher.kick(), events: m.events ?? null },
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
      hooks: ingestHooks(alerts, cfg.key_moved_window, () => dispatcher.kick()),
    },
  );
  const sweeps = new SweepLoop(
    { intervalMs: cfg.sweep_interval, keyMovedWindowMs: cfg.key_moved_window, now },
    { store, detector, alerts, metrics: alertMetrics, logger },
  );
  sweeps.start();
  const pruner = new HistoryPruner({ retentionMs: cfg.history.retention, now }, { store, logger });

  let ethereum: RunningWatch | null = null;
  const stop = async (): Promise<void> => {
    await sweeps.stop();
    await pruner.stop();
    await ethereum?.stop();
    await ingest.close();
    await dispatcher.stop();
    await detector.close();
    for (const s of m.sinks) if (s.sink instanceof EmailSink) s.sink.close();
  };
  try {
    ethereum = await startEthereumWatch({
      cfg: cfg.ethereum,
      ...(o.beaconNodes === undefined ? {} : { beaconNodes: o.beaconNodes }),
      store,
      alerts,
      logger,
      registry: m.registry,
      ...(o.preset === undefined ? {} : { preset: o.preset }),
    });
    dispatcher.start();
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    alerts,
    ingest,
    tokens: new TokenService(store, now),
    queries: new FleetQueries(store, cfg.silent_after_intervals),
    maintenance: new MaintenanceService(store),
    fleetMetrics,
    sinkNames: router.names,
    ethereum,
    sweep: () => sweeps.sweep(true),
    deleteHost: async (ownerId, ref) => {
      const host = await store.tx(async (tx) => {
        const h = await hostsRepository.findHost(tx, ownerId, ref);
        if (h !== null) await hostsRepository.deleteHost(tx, h.id, now());
        return h;
      });
      if (host !== null) ingest.forgetHost(host.ownerId, host.name);
      return host !== null;
    },
    stop,
  };
}
