// Wire facts of message-bus events that two layers share (docs/events.md): alerts/ produces them, events/ publishes them.

/** An alert state change as it goes on the message bus (kind "alert"). */
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
