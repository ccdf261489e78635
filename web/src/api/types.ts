/** Wire types of the HTTP API the dashboard reads (snake_case as the server sends them; see docs/monitor.md). */

export type AlertStatus = "open" | "acknowledged" | "suppressed" | "resolved";
export type Severity = "critical" | "warning" | "info";

export interface Alert {
  id: number;
  kind: string;
  severity: Severity | string;
  chain: string | null;
  pubkey: string | null;
  hosts: string[];
  status: AlertStatus;
  confidence: number;
  summary: string;
  evidence: Record<string, unknown>;
  first_seen: string;
  last_seen: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  suppressed_until: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  dedup_key: string;
}

export interface MaintenanceWindow {
  id: number;
  host_id: number;
  host: string;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
  created_at: string;
}

export interface HostNode {
  source: string;
  chain: string;
  reachable: boolean;
  error: string | null;
  since: string;
  info: Record<string, unknown>;
}

export interface Host {
  id: number;
  name: string;
  owner: string;
  agent_version: string;
  interval_ms: number;
  first_seen: string;
  last_report_at: string;
  reports_total: number;
  silent: boolean;
  keys_present: number;
  keys_active: number;
  nodes: HostNode[];
  maintenance: MaintenanceWindow | null;
}

export interface KeyRow {
  chain: string;
  pubkey: string;
  key_type: string;
  host_id: number;
  host: string;
  status: "active" | "inactive";
  stale: boolean;
  certainty: number;
  source: string;
  first_seen: string;
  changed_at: string;
}

export interface KeyPage {
  data: KeyRow[];
  next_cursor: string | null;
}

export interface HistoryInterval {
  host_id: number;
  host: string;
  chain: string;
  present: boolean;
  active: boolean;
  stale: boolean;
  from: string;
  to: string | null;
}

export interface EpochSignatures {
  epoch: string;
  attestations: number;
  blocks: number;
}

export interface Timeline {
  pubkey: string;
  from: string;
  to: string;
  intervals: HistoryInterval[];
  alerts: Alert[];
  signatures: {
    available: boolean;
    reason: string | null;
    slots_per_epoch: number;
    from_epoch: string | null;
    to_epoch: string | null;
    epochs: EpochSignatures[];
  };
}

/** The signer's doppelganger guard (GET /api/v1/eth2/doppelganger). */
export type DoppelgangerStatus = "unverified" | "verified" | "doppelganger_detected";

export interface DoppelgangerEntry {
  pubkey: string;
  index: string | number | null;
  status: DoppelgangerStatus | string;
  checked_epochs: number;
  remaining_epochs: number;
  since_epoch: string | number | null;
  detail: string | null;
}

export interface MinuteStats {
  minute: string;
  signed: number;
  refused: number;
  refused_by_code: Record<string, number>;
}

export interface SignerStats {
  keys_loaded: number;
  since: string;
  minutes: MinuteStats[];
}
