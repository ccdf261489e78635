import type { DoppelgangerState } from "../../chains/ethereum/index.js";

export interface DetailContext {
  index: number | null;
  /** Why the last round failed, while it does. */
  failure: string | null;
  /** What the detection saw (live in which epoch, on which node, or who found it). */
  detected: string | null;
  cleared: { by: string; at: number } | null;
  /** Whether indices were looked up at least once (a missing index then means no deposit yet). */
  hasIndexLookup: boolean;
  lastSlotOf(epoch: bigint): bigint | null;
}

/** One sentence an operator can act on: why the key signs or not, and what happens next. */
export function detailOf(s: DoppelgangerState | null, c: DetailContext): string {
  const problem = c.failure === null ? "" : `; the check cannot progress: ${c.failure}`;
  if (s === null) return `waiting for a beacon node to tell the chain's genesis and slot length${problem}`;
  const cleared = c.cleared === null ? "" : `cleared by ${c.cleared.by} at ${new Date(c.cleared.at).toISOString()}; `;
  switch (s.status) {
    case "doppelganger_detected":
      return `${c.detected ?? `live in epoch ${s.detectedEpoch}`}: another signer uses this key; refused until an operator clears it`;
    case "verified":
      switch (s.reason) {
        case "genesis":
          return "registered at genesis: nothing to check";
        case "restart":
          return `${cleared}signed through slashguard in the previous epoch (restart): no check needed`;
        default:
          return `${cleared}no doppelganger seen in ${s.checkedEpochs} epoch(s) from epoch ${s.sinceEpoch + 1n}`;
      }
    case "unverified": {
      if (c.index === null)
        return `${cleared}${c.hasIndexLookup ? "no validator index on the beacon node yet (deposit not processed)" : "looking up the validator index"}${problem}`;
      const end = s.nextCheckEpoch + BigInt(s.remainingEpochs);
      const slot = c.lastSlotOf(end);
      return `${cleared}checking liveness from epoch ${s.nextCheckEpoch}: ${s.remainingEpochs} silent epoch(s) to go, signs from slot ${slot ?? "?"} (end of epoch ${end}) at the earliest${problem}`;
    }
  }
}
