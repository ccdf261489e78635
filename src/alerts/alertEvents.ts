import type { AlertStateChange } from "../schemas/busEvents.js";
import type { AlertRow, SqlTx } from "../store/index.js";

export type { AlertStateChange };

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
