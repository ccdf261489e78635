import { Counter, Histogram, type Registry } from "prom-client";

/** Metrics of the protection path; shared by every chain (label `chain`). */
export interface ProtectionMetrics {
  decisions: Counter<"chain" | "kind" | "outcome">;
  refusals: Counter<"chain" | "code">;
  batchSize: Histogram<"chain">;
  batchSeconds: Histogram<"chain">;
  storeErrors: Counter<"chain">;
  cacheMisses: Counter<"chain">;
}

const perRegistry = new WeakMap<Registry, ProtectionMetrics>();

/**
 * The protection metrics of a registry, created on first use: every chain section of one signer
 * process shares them (prom-client refuses to register a name twice).
 */
export function createProtectionMetrics(registry: Registry): ProtectionMetrics {
  const existing = perRegistry.get(registry);
  if (existing !== undefined) return existing;
  const metrics: ProtectionMetrics = {
    decisions: new Counter({
      name: "slashguard_protection_decisions_total",
      help: "Signing decisions by chain, message kind and outcome (new, repeat, refused)",
      labelNames: ["chain", "kind", "outcome"],
      registers: [registry],
    }),
    refusals: new Counter({
      name: "slashguard_protection_refusals_total",
      help: "Refused signing requests by error code",
      labelNames: ["chain", "code"],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "slashguard_protection_batch_size",
      help: "Requests decided per group-commit transaction",
      labelNames: ["chain"],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: "slashguard_protection_batch_seconds",
      help: "Time from the start of a group-commit transaction to its durable commit",
      labelNames: ["chain"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: "slashguard_protection_store_errors_total",
      help: "Batches that failed closed because the store failed",
      labelNames: ["chain"],
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: "slashguard_protection_state_cache_misses_total",
      help: "Keys whose cached state a decision could not use (first sight, or another writer changed it since) and read from the store",
      labelNames: ["chain"],
      registers: [registry],
    }),
  };
  perRegistry.set(registry, metrics);
  return metrics;
}
