import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface ThresholdMetrics {
  peerSeconds: Histogram<"peer">;
  peerFailures: Counter<"peer" | "code">;
  badPartials: Counter<"peer">;
  peersReachable: Gauge;
  served: Counter<"peer" | "status">;
  rounds: Counter<"outcome">;
}

/** Per-peer metrics of a threshold node (peer = the other node's index). */
export function createThresholdMetrics(registry: Registry): ThresholdMetrics {
  return {
    peerSeconds: new Histogram({
      name: "slashguard_cluster_peer_request_seconds",
      help: "Time a peer took to return its partial signature (successful requests)",
      labelNames: ["peer"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    peerFailures: new Counter({
      name: "slashguard_cluster_peer_failures_total",
      help: "Partial-signature requests to a peer that gave no usable partial, by code",
      labelNames: ["peer", "code"],
      registers: [registry],
    }),
    badPartials: new Counter({
      name: "slashguard_cluster_bad_partials_total",
      help: "Partials from a peer that failed verification against its share's public key (dropped)",
      labelNames: ["peer"],
      registers: [registry],
    }),
    peersReachable: new Gauge({
      name: "slashguard_cluster_peers_reachable",
      help: "Peers that answered the last probe or call",
      registers: [registry],
    }),
    served: new Counter({
      name: "slashguard_cluster_partials_served_total",
      help: "Partial-signature requests this node answered for a peer, by status (ok or the refusal code)",
      labelNames: ["peer", "status"],
      registers: [registry],
    }),
    rounds: new Counter({
      name: "slashguard_cluster_gather_rounds_total",
      help: "Gathering rounds of the coordinator: combined, retried (a peer failed or sent a bad partial), or failed",
      labelNames: ["outcome"],
      registers: [registry],
    }),
  };
}
