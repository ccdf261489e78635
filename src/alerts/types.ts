import type { Alert } from "../schemas/alerts.js";
import type { AlertRow } from "../store/index.js";

/** An alert as the API answers it and as sinks receive it (wire form, snake_case: src/schemas/alerts.ts). */
export type AlertView = Alert;

/** trigger: a new event or a reminder; acknowledge and resolve follow operator actions or a cleared condition. */
export type NotificationAction = "trigger" | "acknowledge" | "resolve";

/** What a sink delivers: one action on one alert, as it was when the action was decided. */
export interface AlertNotification {
  action: NotificationAction;
  /** A trigger repeated after the dedup window while the event goes on. */
  reminder: boolean;
  /** Name of the fleet owner the alert belongs to (null: no owner). */
  owner: string | null;
  alert: AlertView;
}

export function toAlertView(a: AlertRow): AlertView {
  return {
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    chain: a.chain,
    pubkey: a.pubkey,
    hosts: a.hosts,
    status: a.status,
    confidence: a.confidence,
    summary: a.summary,
    evidence: JSON.parse(a.evidence) as Record<string, unknown>,
    first_seen: iso(a.firstSeenAt),
    last_seen: iso(a.lastSeenAt),
    acknowledged_by: a.acknowledgedBy,
    acknowledged_at: isoOrNull(a.acknowledgedAt),
    suppressed_until: isoOrNull(a.suppressedUntil),
    resolved_by: a.resolvedBy,
    resolved_at: isoOrNull(a.resolvedAt),
    dedup_key: a.dedupKey,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
