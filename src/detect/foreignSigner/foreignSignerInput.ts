import type { LivenessAnswer } from "../../chains/ethereum/index.js";
import type { EthKeyHostRow } from "../../store/index.js";
import type { OnchainEvidence } from "../onchainEvidence.js";
import type { OwnActivity } from "../ownActivity.js";
import { emptyBatch, type ForeignBatch, LIVE_SILENT, LIVE_YES } from "./foreignSignerBatch.js";
import type { KeyContext, PeerView } from "./foreignSignerDetections.js";

export interface WatchedKey {
  validatorId: number;
  pubkey: string;
  index: number;
}

/** The fleet's view per key: hosts asking an expected remote signer, hosts signing elsewhere, maintenance. */
export function peerViews(
  hosts: readonly EthKeyHostRow[],
  inMaintenance: ReadonlySet<number>,
  isExpectedSigner: (url: string | null) => boolean,
): Map<string, PeerView> {
  const peers = new Map<string, PeerView>();
  for (const h of hosts) {
    const p = peers.get(h.pubkey) ?? { ownerId: h.ownerId, expected: [], unrecognized: [], maintenance: false };
    if (h.source === "remote" && isExpectedSigner(h.signerUrl)) {
      p.expected.push(h.hostName);
      if (inMaintenance.has(h.hostId)) p.maintenance = true;
    } else if (h.active) p.unrecognized.push(h.hostName);
    peers.set(h.pubkey, p);
  }
  return peers;
}

/** One pass's input in columns (for the worker threads) and, beside it, what the detections need to say. */
export function buildForeignBatch(
  keys: readonly WatchedKey[],
  w: { prev: bigint; cur: bigint },
  live: LivenessAnswer,
  ours: OwnActivity,
  onchain: ReadonlyMap<number, OnchainEvidence[]>,
  peers: ReadonlyMap<string, PeerView>,
): { batch: ForeignBatch; contexts: KeyContext[] } {
  const batch = emptyBatch(keys.length);
  const prevLive = live.byEpoch.get(w.prev);
  const curLive = live.byEpoch.get(w.cur);
  const contexts = keys.map((k, i): KeyContext => {
    const id = k.validatorId;
    const p = prevLive?.get(k.index);
    const c = curLive?.get(k.index);
    if (p !== undefined) batch.live[2 * i] = p ? LIVE_YES : LIVE_SILENT;
    if (c !== undefined) batch.live[2 * i + 1] = c ? LIVE_YES : LIVE_SILENT;
    batch.attested[i] =
      (ours.attested(id, w.prev - 1n) ? 1 : 0) |
      (ours.attested(id, w.prev) ? 2 : 0) |
      (ours.attested(id, w.cur) ? 4 : 0);
    batch.proposed[i] = (ours.proposedIn(id, w.prev) ? 1 : 0) | (ours.proposedIn(id, w.cur) ? 2 : 0);
    const ev = onchain.get(id) ?? [];
    batch.mismatch[i] = ev.length > 0 ? 1 : 0;
    const peer = peers.get(k.pubkey) ?? null;
    batch.unrecognized[i] = Math.min(65535, peer?.unrecognized.length ?? 0);
    batch.maintenance[i] = peer?.maintenance === true ? 1 : 0;
    return { pubkey: k.pubkey, index: k.index, peer, onchain: ev };
  });
  return { batch, contexts };
}
