import { Counter, Histogram, type Registry } from "prom-client";

export interface FleetMetrics {
  reports: Counter<"result">;
  ingestSeconds: Histogram;
}

export function createFleetMetrics(registry: Registry): FleetMetrics {
  return {
    reports: new Counter({
      name: "slashguard_monitor_reports_total",
      help: "Agent reports by result (stored, rejected, unauthorized, store_error, rate_limited)",
      labelNames: ["result"],
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: "slashguard_monitor_ingest_batch_seconds",
      help: "Time to store one group-commit batch of agent reports, detection included",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
