import { Counter, Gauge, type Registry } from "prom-client";

export interface FailoverMetrics {
  role: Gauge<"role">;
  epoch: Gauge;
  leaseRenewals: Counter<"outcome">;
  selfStopMargin: Gauge;
  events: Counter<"kind">;
  refusals: Counter<"reason">;
  healthy: Gauge;
  check: Gauge<"check">;
  lastSignedHeight: Gauge;
}

export const ROLES = ["starting", "passive", "promoting", "active", "demoting", "stopping"] as const;

export function createFailoverMetrics(registry: Registry): FailoverMetrics {
  const r = [registry];
  return {
    role: new Gauge({
      name: "slashguard_failover_role",
      help: "1 for the current role",
      labelNames: ["role"],
      registers: r,
    }),
    epoch: new Gauge({ name: "slashguard_failover_epoch", help: "Fencing epoch of the lease last seen", registers: r }),
    leaseRenewals: new Counter({
      name: "slashguard_failover_lease_renewals_total",
      help: "Lease renewals by outcome (ok, lost, error)",
      labelNames: ["outcome"],
      registers: r,
    }),
    selfStopMargin: new Gauge({
      name: "slashguard_failover_self_stop_margin_seconds",
      help: "Seconds left before the active stops its node unless the lease is renewed (0 when not active)",
      registers: r,
    }),
    events: new Counter({
      name: "slashguard_failover_events_total",
      help: "Failover events (failover, failback, activated, handover, self_stop, promotion_refused)",
      labelNames: ["kind"],
      registers: r,
    }),
    refusals: new Counter({
      name: "slashguard_failover_promotions_refused_total",
      help: "Promotions refused by reason",
      labelNames: ["reason"],
      registers: r,
    }),
    healthy: new Gauge({
      name: "slashguard_failover_healthy",
      help: "1 when the node is healthy (after hysteresis)",
      registers: r,
    }),
    check: new Gauge({
      name: "slashguard_failover_check_ok",
      help: "Last result of each health check (1 ok, 0 failed)",
      labelNames: ["check"],
      registers: r,
    }),
    lastSignedHeight: new Gauge({
      name: "slashguard_failover_last_signed_height",
      help: "Highest height the chain shows signed by the validator (as seen by this node)",
      registers: r,
    }),
  };
}
