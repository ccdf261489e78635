import type { AlertRow } from "../store/alerts/alertsRepository.js";
import type { SqlTx } from "../store/types.js";

/** An alert state change as it goes on the message bus (docs/events.md, kind "alert"). */
export interface AlertStateChange {
  alert: number;
  /** opened | acknowledged | suppressed | suppression_ended | resolved */
  state: string;
  alert_kind: string;
  severity: string;
  chain: string | null;
  pubkey: string | null;
  hosts: string[];
  summary: string;
  /** Who changed it (the monitor itself, or the token's name). */
  actor: string;
  note: string | null;
}

/** Where alert state changes go: the message-bus outbox (events/outboxSink.ts), in the changing transaction. */
export interface AlertStateSink {
  recordAlerts(tx: SqlTx, changes: readonly AlertStateChange[]): Promise<void>;
}

export function alertStateChange(a: AlertRow, action: string, actor: string, note: string | null): AlertStateChange {
  return {
    alert: a.id,
    state: action.replace(/ /g, "_"),
    alert_kind: a.kind,
    severity: a.severity,
    chain: a.chain,
    pubkey: a.pubkey,
    hosts: a.hosts,
    summary: a.summary,
    actor,
    note,
  };
}
