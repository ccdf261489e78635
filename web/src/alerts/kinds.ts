import type { Alert } from "../api/types.js";

/** Worst first: the banner names the worst kind among the open critical alerts. */
const KIND_RANK = [
  "double_active",
  "foreign_signer",
  "doppelganger_detected",
  "store_went_backwards",
  "db_not_failover_safe",
  "agent_silent",
  "node_unreachable",
  "key_moved",
];
const SEVERITY_RANK = ["critical", "warning", "info"];

export const KIND_LABELS: Record<string, string> = {
  double_active: "Key active on two hosts",
  foreign_signer: "Signature we did not make",
  agent_silent: "Agent silent",
  node_unreachable: "Node unreachable",
  key_moved: "Key moved",
  store_went_backwards: "Protection database went backwards",
  db_not_failover_safe: "Database not failover-safe",
};

/** What to do, per kind (docs/monitor.md). */
export const KIND_ADVICE: Record<string, string> = {
  double_active: "Stop one of the hosts now (stop the node or switch it to backup), then find out why both run.",
  foreign_signer:
    "Someone else signs with this key. Stop every copy you do not control and check where the key leaked.",
  agent_silent:
    "The agent, host or network is down. A silent host may still sign: check it before starting its keys elsewhere.",
  node_unreachable: "The node or its RPC is down. Its keys keep their last known state until it answers.",
  key_moved: "Expected after a planned failover; otherwise find out who moved the key.",
  store_went_backwards:
    "The database lost records this signer released (an asynchronous standby promoted, a restore from backup). The affected keys stay stopped in this signer: import the lost history (protection import of an export with the tail) before restarting it.",
  db_not_failover_safe:
    "No synchronous standby is attached, so a database failover could lose signing records. Signing is refused: attach or repair the standby.",
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind.replaceAll("_", " ");
}

const rank = (list: string[], v: string): number => {
  const i = list.indexOf(v);
  return i < 0 ? list.length : i;
};

/** Orders alerts worst first: severity, then kind, then the newest. */
export function compareWorst(a: Alert, b: Alert): number {
  return (
    rank(SEVERITY_RANK, a.severity) - rank(SEVERITY_RANK, b.severity) ||
    rank(KIND_RANK, a.kind) - rank(KIND_RANK, b.kind) ||
    b.id - a.id
  );
}

/** The open critical alerts (the global banner), worst first. */
export function openCritical(alerts: Iterable<Alert>): Alert[] {
  return [...alerts].filter((a) => a.status === "open" && a.severity === "critical").sort(compareWorst);
}
