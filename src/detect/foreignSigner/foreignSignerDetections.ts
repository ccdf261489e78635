import { shortKey } from "../../util/logger.js";
import { dedupKey } from "../fleet/fleetRules.js";
import type { OnchainEvidence } from "../onchainEvidence.js";
import type { Detection } from "../types.js";
import { FLAG_LIVE_CUR, FLAG_LIVE_PREV, FLAG_MISMATCH, type ForeignResult } from "./foreignSignerBatch.js";

/** What the fleet reports about one key. */
export interface PeerView {
  ownerId: number;
  /** Hosts whose validator client asks an expected remote signer. */
  expected: string[];
  /** Hosts signing with the key outside that set (their own keystore, or another signer). */
  unrecognized: string[];
  /** A host of the expected set is in maintenance. */
  maintenance: boolean;
}

export interface KeyContext {
  pubkey: string;
  index: number;
  peer: PeerView | null;
  onchain: OnchainEvidence[];
}

const FOREIGN_SIGNER = "foreign_signer";

/** The identity of a foreign-signer event: one per key (and owner), whatever the signals. */
function foreignSignerDedupKey(ownerId: number | null, pubkey: string): string {
  return dedupKey(FOREIGN_SIGNER, ownerId, "ethereum", pubkey, []);
}

/** Detections for the keys a pass flagged, with the evidence an operator needs. */
export function foreignDetections(
  keys: readonly KeyContext[],
  r: ForeignResult,
  w: { prev: bigint; cur: bigint; node: string; ownerId: number | null },
): Detection[] {
  const out: Detection[] = [];
  keys.forEach((k, i) => {
    const flags = r.flags[i]!;
    if (flags === 0) return;
    const liveEpochs = [
      ...((flags & FLAG_LIVE_PREV) !== 0 ? [w.prev] : []),
      ...((flags & FLAG_LIVE_CUR) !== 0 ? [w.cur] : []),
    ];
    const signals = [...(liveEpochs.length > 0 ? ["live_unrecorded"] : []), ...new Set(k.onchain.map((e) => e.signal))];
    const ownerId = k.peer?.ownerId ?? w.ownerId;
    const what =
      (flags & FLAG_MISMATCH) !== 0
        ? `the chain holds ${k.onchain.length} message(s) signed with it that slashguard did not sign`
        : `it was live in epoch ${liveEpochs.join(" and ")} without a signature of slashguard`;
    const hosts = k.peer?.unrecognized ?? [];
    out.push({
      kind: FOREIGN_SIGNER,
      severity: "critical",
      ownerId,
      chain: "ethereum",
      pubkey: k.pubkey,
      hosts: [...hosts].sort(),
      confidence: Math.round(r.confidence[i]! * 1000) / 1000,
      evidence: {
        signals,
        index: k.index,
        window: [String(w.prev), String(w.cur)],
        live_unrecorded_epochs: liveEpochs.map(String),
        duty_miss_rate: r.missRate[i],
        expected_hosts: k.peer?.expected ?? [],
        unrecognized_hosts: hosts,
        expected_in_maintenance: k.peer?.maintenance ?? false,
        onchain: k.onchain,
        beacon_node: w.node,
      },
      summary: `Ethereum key ${shortKey(k.pubkey)} (validator ${k.index}) is signing somewhere else: ${what}${
        hosts.length > 0 ? `; hosts signing outside its expected set: ${hosts.join(", ")}` : ""
      }`,
      dedupKey: foreignSignerDedupKey(ownerId, k.pubkey),
    });
  });
  return out;
}
