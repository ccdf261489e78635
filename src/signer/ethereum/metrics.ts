import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface EthSignerMetrics {
  requests: Counter<"type" | "status">;
  signingSeconds: Histogram<"type">;
  keysLoaded: Gauge;
  keyLoadErrors: Gauge;
}

export function createEthSignerMetrics(registry: Registry): EthSignerMetrics {
  return {
    requests: new Counter({
      name: "slashguard_eth2_sign_requests_total",
      help: "Ethereum signing requests by type and HTTP status",
      labelNames: ["type", "status"],
      registers: [registry],
    }),
    signingSeconds: new Histogram({
      name: "slashguard_eth2_signing_seconds",
      help: "Time from request parsed to signature ready, protection commit included",
      labelNames: ["type"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    keysLoaded: new Gauge({
      name: "slashguard_eth2_keys_loaded",
      help: "BLS keys loaded in the signer",
      registers: [registry],
    }),
    keyLoadErrors: new Gauge({
      name: "slashguard_eth2_key_load_errors",
      help: "Keystores that failed to load at start (wrong password, broken file)",
      registers: [registry],
    }),
  };
}
