import type { AlertService } from "../alerts/index.js";
import { detectKeys } from "../detect/index.js";
import type { IngestHooks } from "../fleet/index.js";

/**
 * What ingestion calls for the keys a report changed: the key rules (double_active at once) inside the
 * report's transaction, so the alert and its notification commit with the report that caused them.
 */
export function ingestHooks(alerts: AlertService, keyMovedWindowMs: number, onCommitted?: () => void): IngestHooks {
  return {
    onKeysChanged: async (tx, keys, at) => alerts.raiseInTx(tx, await detectKeys(tx, keys, at, keyMovedWindowMs), at),
    ...(onCommitted === undefined ? {} : { onCommitted }),
  };
}
