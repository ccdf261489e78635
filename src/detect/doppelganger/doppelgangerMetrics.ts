import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface DoppelgangerMetrics {
  keys: Gauge<"status">;
  rounds: Counter<"result">;
  epochsChecked: Counter;
  detections: Counter;
}

/** Signer side: the guard at start. */
export function createDoppelgangerMetrics(registry: Registry): DoppelgangerMetrics {
  return {
    keys: new Gauge({
      name: "slashguard_doppelganger_keys",
      help: "Ethereum keys by doppelganger status (unverified, verified, doppelganger_detected)",
      labelNames: ["status"],
      registers: [registry],
    }),
    rounds: new Counter({
      name: "slashguard_doppelganger_rounds_total",
      help: "Liveness rounds of the doppelganger guard by result (ok, failed)",
      labelNames: ["result"],
      registers: [registry],
    }),
    epochsChecked: new Counter({
      name: "slashguard_doppelganger_epochs_checked_total",
      help: "Key-epochs counted silent by the doppelganger guard",
      registers: [registry],
    }),
    detections: new Counter({
      name: "slashguard_doppelganger_detections_total",
      help: "Keys found live on the network while this signer was not signing with them",
      registers: [registry],
    }),
  };
}

export interface ForeignSignerMetrics {
  passes: Counter<"result">;
  passSeconds: Histogram;
  keysWatched: Gauge;
  detections: Counter<"signal">;
}

/** Monitor side: the continuous foreign-signer check. */
export function createForeignSignerMetrics(registry: Registry): ForeignSignerMetrics {
  return {
    passes: new Counter({
      name: "slashguard_foreign_signer_passes_total",
      help: "Foreign-signer passes (one per epoch) by result (ok, failed)",
      labelNames: ["result"],
      registers: [registry],
    }),
    passSeconds: new Histogram({
      name: "slashguard_foreign_signer_pass_seconds",
      help: "Duration of one foreign-signer pass (beacon queries, store reads, rules on worker threads)",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    keysWatched: new Gauge({
      name: "slashguard_foreign_signer_keys_watched",
      help: "Ethereum keys the foreign-signer check watches",
      registers: [registry],
    }),
    detections: new Counter({
      name: "slashguard_foreign_signer_detections_total",
      help: "Foreign-signer findings by signal (live_unrecorded, attestation_mismatch, block_mismatch)",
      labelNames: ["signal"],
      registers: [registry],
    }),
  };
}
