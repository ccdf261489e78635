/** Kinds of fleet detections (and of the alerts they raise). */
export type DetectionKind = "double_active" | "agent_silent" | "node_unreachable" | "key_moved";
export const FLEET_KINDS: readonly DetectionKind[] = ["double_active", "agent_silent", "node_unreachable", "key_moved"];

export type Severity = "critical" | "warning" | "info";

export const SEVERITY_OF: Record<DetectionKind, Severity> = {
  double_active: "critical",
  agent_silent: "warning",
  node_unreachable: "warning",
  key_moved: "info",
};

/** A condition that holds now. Alerts are raised from detections and resolved when they stop. */
export interface Detection {
  kind: string;
  severity: Severity;
  /** Owner of the hosts involved; null for events that belong to no fleet owner. */
  ownerId: number | null;
  chain: string | null;
  pubkey: string | null;
  hosts: string[];
  confidence: number;
  evidence: Record<string, unknown>;
  summary: string;
  /** Identity of the event: (kind, chain, key, host set) and the owner, hashed. */
  dedupKey: string;
}

/** One host's view of one key. Times are unix ms. */
export interface Observation {
  hostId: number;
  hostName: string;
  present: boolean;
  active: boolean;
  certainty: number;
  /** The node was unreachable at the last report: the last known state is kept. */
  stale: boolean;
  /** A shared remote signer deciding for this host, if any. */
  signerId: string | null;
  activeSince: number | null;
  inactiveSince: number | null;
  /** When this host first reported the key. */
  firstSeenAt: number;
}

export interface KeyGroup {
  ownerId: number;
  chain: string;
  pubkey: string;
  obs: Observation[];
}

export interface HostState {
  id: number;
  ownerId: number;
  name: string;
  lastReportAt: number;
  intervalMs: number;
  inMaintenance: boolean;
  sources: { source: string; chain: string; reachable: boolean; error: string | null; since: number }[];
}

export interface DetectOptions {
  /** A host is silent after this many of its own report intervals without a report. */
  silentAfterIntervals: number;
  /** key_moved: how far apart the leave and the arrival may be, and how long the event stays open. */
  keyMovedWindowMs: number;
}

export const DEFAULT_DETECT_OPTIONS: DetectOptions = { silentAfterIntervals: 3, keyMovedWindowMs: 3_600_000 };
