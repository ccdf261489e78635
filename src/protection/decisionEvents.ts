import type { SqlTx } from "../store/index.js";
import { isAppError, jsonSafe } from "../util/errors.js";
import type { Settled } from "../util/groupCommit.js";

/**
 * One signing decision as it goes on the message bus (docs/events.md). Built by each chain's protection
 * from the batch it just decided and handed to a DecisionEventSink inside the same transaction.
 */
export interface DecisionEvent {
  chain: "ethereum" | "cometbft" | "substrate";
  /** Public key, 0x-prefixed lowercase hex. */
  key: string;
  /** Substrate key type (gran, babe, …) or the CometBFT chain id; null for Ethereum. */
  scope: string | null;
  decision: "signed" | "refused";
  /** Signed: the identical message was signed before (nothing new recorded). */
  repeat: boolean;
  /** Refused: the error code (ERR_…); null when signed. */
  code: string | null;
  /** The slashing-relevant fields of the request (JSON-safe: u64 as decimal strings, bytes as hex). */
  request: Record<string, unknown>;
  /** Refused: the conflicting record or watermark, when the refusal names one. */
  previous: unknown;
}

/** Where decisions go: the outbox of the message bus (events/outboxSink.ts). */
export interface DecisionEventSink {
  /** Runs inside the decision's transaction: the events commit with the records or not at all. */
  record(tx: SqlTx, events: readonly DecisionEvent[]): Promise<void>;
}

/** Fields of one decision common to every chain, from its settled result. */
export function decided<R>(
  result: Settled<R> | undefined,
  repeatOf: (value: R) => boolean,
): Pick<DecisionEvent, "decision" | "repeat" | "code" | "previous"> {
  if (result === undefined) return { decision: "refused", repeat: false, code: "ERR_INTERNAL", previous: null };
  if (result.ok) return { decision: "signed", repeat: repeatOf(result.value), code: null, previous: null };
  const e = result.error;
  if (!isAppError(e)) return { decision: "refused", repeat: false, code: "ERR_INTERNAL", previous: null };
  const t = e.type as { previous?: unknown };
  return {
    decision: "refused",
    repeat: false,
    code: e.code,
    previous: t.previous === undefined || t.previous === null ? null : jsonSafe(t.previous),
  };
}

/** Records the events of a decided batch when a sink is set (no work at all without one). */
export async function recordDecisions<I, R>(
  sink: DecisionEventSink | null,
  tx: SqlTx,
  items: readonly I[],
  results: readonly Settled<R>[],
  toEvent: (item: I, result: Settled<R> | undefined) => DecisionEvent,
): Promise<void> {
  if (sink === null || items.length === 0) return;
  await sink.record(
    tx,
    items.map((it, i) => toEvent(it, results[i])),
  );
}
