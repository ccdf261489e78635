import { Gauge, type Registry } from "prom-client";
import type { PostgresStore, Store } from "../../store/index.js";
import {
  type DbDurability,
  durabilityOk,
  openStore,
  type ReplicationSetup,
  type ReplicationState,
} from "../../store/index.js";
import type { Logger } from "../../util/logger.js";
import { type StoreAlerts, watchStoreBehind } from "./alertRelay.js";

const SETUPS: readonly ReplicationSetup[] = ["single", "sync_standby", "async_standby"];
/** How often the replication state is read again for the metric (a `replicated` store also checks every commit). */
const REFRESH_MS = 15_000;

export interface SignerStore {
  store: Store;
  /** Stops the periodic replication check (before store.close()). */
  stop(): void;
}

/**
 * Opens the signer's store at the given durability and reports the PostgreSQL replication state: a log
 * line when it changes, `slashguard_db_durability_ok` (0: a failover could lose acknowledged records,
 * or `replicated` has no synchronous standby, so nothing is signed) and `slashguard_db_replication_setup`.
 * SQLite is a single server: durability_ok 1. With `alerts` (a monitor), the same raises and clears
 * db_not_failover_safe, and refusals of a store that went backwards raise store_went_backwards.
 */
export async function openSignerStore(
  url: string,
  durability: DbDurability,
  logger: Logger,
  registry: Registry,
  alerts: StoreAlerts | null = null,
): Promise<SignerStore> {
  const ok = new Gauge({
    name: "slashguard_db_durability_ok",
    help: "1 when the database setup keeps every acknowledged record across a failover at the configured --db-durability; 0 when it does not (asynchronous standby, or replicated without a synchronous standby)",
    registers: [registry],
  });
  const setupGauge = new Gauge({
    name: "slashguard_db_replication_setup",
    help: "1 for the current PostgreSQL replication setup (single, sync_standby, async_standby)",
    labelNames: ["setup"],
    registers: [registry],
  });
  const report = (state: ReplicationState): void => {
    const good = durabilityOk(durability, state);
    ok.set(good ? 1 : 0);
    for (const s of SETUPS) setupGauge.set({ setup: s }, s === state.setup ? 1 : 0);
    const ctx = {
      durability,
      setup: state.setup,
      synchronousCommit: state.synchronousCommit,
      synchronousStandbyNames: state.synchronousStandbyNames,
      standbys: state.standbys,
      syncStandbys: state.syncStandbys,
    };
    alerts?.replication(ctx, good);
    if (good) logger.info("Database replication", ctx);
    else if (durability === "replicated")
      logger.error("Database has no synchronous standby: signing is refused (--db-durability replicated)", ctx);
    else logger.warn("Database has an asynchronous standby: a failover can lose acknowledged records", ctx);
  };
  const store = await openStore(url, {
    durability,
    onReplication: report,
    onPrimary: (host) => logger.warn("Database primary changed: following it", { host }),
  });
  const stopWatch = alerts === null ? () => {} : watchStoreBehind(registry, alerts);
  if (store.dialect !== "postgres") {
    report({ setup: "single", synchronousCommit: "", synchronousStandbyNames: "", standbys: 0, syncStandbys: 0 });
    return { store, stop: stopWatch };
  }
  const pgStore = store as PostgresStore;
  const timer = setInterval(() => {
    pgStore.refreshReplication().catch(() => {}); // a failure shows up in the next transaction
  }, REFRESH_MS);
  timer.unref();
  return {
    store,
    stop: () => {
      clearInterval(timer);
      stopWatch();
    },
  };
}
