import { mayClear, type SignerEvent, signerEventDedupKey, toDetection } from "../detect/index.js";
import type { AlertService } from "./alertService.js";
import { AlertError, AlertErrorCode } from "./alertService.js";

/**
 * Who sends the events: null in-process (the signer of this process, trusted); over HTTP the token
 * that spoke. A non-admin caller may clear only alerts it raised itself (same token, same source).
 */
export type SignerEventCaller = { tokenId: number; admin: boolean } | null;

/** Raises and clears a signer's alerts in the order they happened (a clear after its raise resolves it). */
export async function applySignerEvents(
  alerts: AlertService,
  events: readonly SignerEvent[],
  ownerId: number | null,
  caller: SignerEventCaller = null,
): Promise<void> {
  const restricted = caller !== null && !caller.admin;
  const by = (e: SignerEvent) => ({ source: e.source, token_id: caller?.tokenId ?? null });
  // A refused clear fails the request before anything of it is applied.
  if (restricted)
    for (const e of events) {
      if (e.action !== "clear") continue;
      const a = await alerts.findUnresolved(signerEventDedupKey(e.kind, ownerId, e.pubkey, e.source));
      if (a !== null && !mayClear(a.evidence, by(e)))
        throw new AlertError({ code: AlertErrorCode.Forbidden, id: a.id }, `this caller may not clear alert ${a.id}`);
    }
  for (const e of events) {
    if (e.action === "raise") await alerts.raise([toDetection(e, ownerId, by(e))]);
    else
      await alerts.clear(
        [signerEventDedupKey(e.kind, ownerId, e.pubkey, e.source)],
        restricted ? (a) => mayClear(a.evidence, by(e)) : undefined,
      );
  }
}
