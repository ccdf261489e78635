import { type SignerEvent, signerEventDedupKey, toDetection } from "../detect/signerEvents.js";
import type { AlertService } from "./alertService.js";

/** Raises and clears a signer's alerts in the order they happened (a clear after its raise resolves it). */
export async function applySignerEvents(
  alerts: AlertService,
  events: readonly SignerEvent[],
  ownerId: number | null,
): Promise<void> {
  for (const e of events) {
    if (e.action === "raise") await alerts.raise([toDetection(e, ownerId)]);
    else await alerts.clear([signerEventDedupKey(e.kind, ownerId, e.pubkey, e.source)]);
  }
}
