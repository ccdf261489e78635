import type { Registry } from "prom-client";
import type { AlertService } from "../alerts/index.js";
import type { Preset } from "../chains/ethereum/index.js";
import { BeaconClient } from "../chains/ethereum/index.js";
import type { Detection } from "../detect/index.js";
import { createForeignSignerMetrics, dedupKey, ForeignSignerScanner, ForeignSignerWatch } from "../detect/index.js";
import type { Store } from "../store/index.js";
import { ownersRepository } from "../store/index.js";
import { type Clock, systemClock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { redactUrl } from "../util/redact.js";
import type { MonitorSection } from "./monitorConfig.js";

export interface RunningWatch {
  watch: ForeignSignerWatch;
  urls: readonly string[];
  stop(): Promise<void>;
}

const CHECK_FAILED = "foreign_signer_check_failed";

/**
 * The continuous foreign-signer check of the monitor (every key of the signing log in the monitor's
 * store), raising `foreign_signer` alerts; null without beacon nodes.
 */
export async function startEthereumWatch(a: {
  cfg: MonitorSection["ethereum"];
  beaconNodes?: string[];
  store: Store;
  alerts: AlertService;
  logger: Logger;
  registry: Registry;
  preset?: Preset;
  clock?: Clock;
}): Promise<RunningWatch | null> {
  const urls = a.beaconNodes ?? a.cfg.beacon_nodes;
  if (urls.length === 0) return null;
  const clock = a.clock ?? systemClock;
  const owner = a.cfg.owner;
  const ownerId =
    owner === undefined ? null : await a.store.tx((tx) => ownersRepository.upsertOwner(tx, owner, clock.nowMs()));
  const logger = a.logger.child({ job: "foreign-signer" });
  const failedKey = dedupKey(CHECK_FAILED, ownerId, "ethereum", null, []);
  const scanner = new ForeignSignerScanner({ workers: a.cfg.workers, batchSize: a.cfg.batch_size });
  const watch = new ForeignSignerWatch(
    { ownerId, expectedSigners: a.cfg.expected_signers, ...(a.preset === undefined ? {} : { preset: a.preset }) },
    {
      beacon: new BeaconClient({ urls, timeoutMs: a.cfg.beacon_timeout }),
      store: a.store,
      clock,
      logger,
      scanner,
      metrics: createForeignSignerMetrics(a.registry),
      onDetections: (d) => a.alerts.raise(d),
      onCleared: (keys) => a.alerts.clear(keys),
      onCheckState: async (reason) => {
        if (reason === null) return a.alerts.clear([failedKey]);
        const d: Detection = {
          kind: CHECK_FAILED,
          severity: "warning",
          ownerId,
          chain: "ethereum",
          pubkey: null,
          hosts: [],
          confidence: 1,
          evidence: { reason, beacon_nodes: urls },
          summary: `The foreign-signer check cannot run: ${reason}. Keys signing elsewhere go unseen until it runs again.`,
          dedupKey: failedKey,
        };
        await a.alerts.raise([d]);
      },
    },
  );
  watch.start();
  logger.info("Foreign-signer check started", { beaconNodes: urls.map(redactUrl), owner: owner ?? null });
  return {
    watch,
    urls,
    stop: async () => {
      await watch.stop();
      await scanner.close();
    },
  };
}
