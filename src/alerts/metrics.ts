import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface AlertMetrics {
  raised: Counter<"kind">;
  deliveries: Counter<"sink" | "result">;
  outbox: Gauge<"state">;
  passSeconds: Histogram;
}

export function createAlertMetrics(registry: Registry): AlertMetrics {
  return {
    raised: new Counter({
      name: "slashguard_monitor_alerts_opened_total",
      help: "Alerts opened by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "slashguard_monitor_notifications_total",
      help: "Notification delivery attempts by sink and result (sent, retry, dead)",
      labelNames: ["sink", "result"],
      registers: [registry],
    }),
    outbox: new Gauge({
      name: "slashguard_monitor_outbox_notifications",
      help: "Notifications in the outbox by state (pending, sent, dead)",
      labelNames: ["state"],
      registers: [registry],
    }),
    passSeconds: new Histogram({
      name: "slashguard_monitor_detection_pass_seconds",
      help: "Duration of a full detection pass (read, rules on worker threads, reconcile)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
