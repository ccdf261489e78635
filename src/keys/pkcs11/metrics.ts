import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Metrics of the PKCS#11 key source (label `module`: the library's file name). */
export interface HsmMetrics {
  up: Gauge<"module">;
  failures: Counter<"module" | "code">;
  signSeconds: Histogram<"module">;
}

const perRegistry = new WeakMap<Registry, HsmMetrics>();

/** Created once per registry: the CometBFT and Substrate sections of one signer share them. */
export function createHsmMetrics(registry: Registry): HsmMetrics {
  const existing = perRegistry.get(registry);
  if (existing !== undefined) return existing;
  const metrics: HsmMetrics = {
    up: new Gauge({
      name: "slashguard_hsm_up",
      help: "1 while the PKCS#11 token signs, 0 while it is down (its keys refuse to sign)",
      labelNames: ["module"],
      registers: [registry],
    }),
    failures: new Counter({
      name: "slashguard_hsm_failures_total",
      help: "Signatures the PKCS#11 key source refused or could not make, by error code",
      labelNames: ["module", "code"],
      registers: [registry],
    }),
    signSeconds: new Histogram({
      name: "slashguard_hsm_sign_seconds",
      help: "Time for one signature inside the PKCS#11 token, seen from the signer",
      labelNames: ["module"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
  perRegistry.set(registry, metrics);
  return metrics;
}
