import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Metrics of the privval transport (the decisions themselves are counted by protection metrics). */
export interface PrivvalMetrics {
  requests: Counter<"chain_id" | "type" | "outcome">;
  requestSeconds: Histogram<"type">;
  connected: Gauge<"chain_id" | "node">;
  connections: Counter<"chain_id" | "node" | "result">;
}

export function createPrivvalMetrics(registry: Registry): PrivvalMetrics {
  return {
    requests: new Counter({
      name: "slashguard_privval_requests_total",
      help: "privval requests answered, by chain id, request type and outcome (ok, refused, invalid, error)",
      labelNames: ["chain_id", "type", "outcome"],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: "slashguard_privval_request_seconds",
      help: "Time from reading a privval request to writing its answer",
      labelNames: ["type"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    connected: new Gauge({
      name: "slashguard_privval_connected",
      help: "1 while the signer holds an authenticated connection to the node",
      labelNames: ["chain_id", "node"],
      registers: [registry],
    }),
    connections: new Counter({
      name: "slashguard_privval_connections_total",
      help: "Connection attempts to nodes by result (established, failed)",
      labelNames: ["chain_id", "node", "result"],
      registers: [registry],
    }),
  };
}
