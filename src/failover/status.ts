import type { HealthReport } from "./health.js";
import type { LeaseRecord } from "./lease/lease.js";

export type Role = "starting" | "passive" | "promoting" | "active" | "demoting" | "stopping";

/** Which key the node would load: the validator's, a dummy, or unknown (missing or unreadable file). */
export type InstalledKey = "validator" | "dummy" | "unknown";

/** Snapshot for GET /status (wire form: snake_case, u64 as decimal strings). */
export interface FailoverStatus {
  node_id: string;
  role: Role;
  primary: boolean;
  /** Passive, healthy, and able to take over now (peers ask before they step down). */
  ready: boolean;
  validator_address: string;
  lease: {
    store: string;
    holder: string | null;
    epoch: string;
    live: boolean;
    held_by_me: boolean;
    remaining_ms: number | null;
    self_stop_in_ms: number | null;
    handover_to: string | null;
    error: string | null;
  };
  /** `running` is true while a start is in progress (`starting`): a starting node is never "stopped". */
  node: { running: boolean | null; starting: boolean; key: InstalledKey };
  last_signed_height: string | null;
  health: {
    healthy: boolean;
    at: string | null;
    checks: { name: string; ok: boolean; detail: string }[];
  };
  last_event: Record<string, unknown> | null;
}

export function leaseView(
  store: string,
  rec: LeaseRecord | null,
  me: string,
  selfStopInMs: number | null,
  error: string | null,
): FailoverStatus["lease"] {
  return {
    store,
    holder: rec?.holder ?? null,
    epoch: (rec?.epoch ?? 0n).toString(),
    live: rec?.live ?? false,
    held_by_me: rec?.live === true && rec.holder === me,
    remaining_ms: rec?.remainingMs ?? null,
    self_stop_in_ms: selfStopInMs,
    handover_to: rec?.handoverTo ?? null,
    error,
  };
}

export function healthView(h: HealthReport | null, healthy: boolean): FailoverStatus["health"] {
  return { healthy, at: h?.at ?? null, checks: h?.checks ?? [] };
}
