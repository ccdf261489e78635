import type { BlsPool, PartialSignatureScheme } from "../../keys/index.js";
import { ThresholdError, ThresholdErrorCode } from "../../keys/index.js";
import { isAppError } from "../../util/errors.js";
import { type Logger, shortKey } from "../../util/logger.js";
import type { ThresholdMetrics } from "./metrics.js";
import type { GroupKey } from "./thresholdEthSigner.js";
import { ClusterErrorCode, PeerCallError, type PeerTransport } from "./types.js";

export interface GatherRequest {
  index: number;
  threshold: number;
  /** Absolute time (the modules' clock) after which nothing more is asked. */
  deadline: number;
  key: GroupKey;
  root: Uint8Array;
  body: string;
}

export interface GatherModules {
  pool: BlsPool;
  scheme: PartialSignatureScheme;
  transport: PeerTransport;
  logger: Logger;
  metrics: ThresholdMetrics | null;
  now: () => number;
}

/** A peer's call gets at least this long, even when little of the deadline is left. */
const MIN_PEER_TIMEOUT_MS = 50;

/**
 * Gathers T-1 partials from peers and combines them with this node's own, in rounds: each round names
 * a signer set (this node and the T-1 best peers not yet excluded), asks those peers with the full
 * request, and combines. The combined signature is verified against the group key; when it fails, each
 * partial is checked against its share's public key and the bad ones' peers are excluded and reported.
 * A peer that fails or refuses is excluded too, and the next round picks another set (partials are
 * weighted for their set, so a new set is signed anew; peers re-sign the identical root, which their
 * protection allows). Without T valid partials by the deadline: ERR_THRESHOLD_NOT_ENOUGH_PARTIALS, and
 * nothing is released.
 */
export async function gatherSignature(r: GatherRequest, m: GatherModules): Promise<Uint8Array> {
  const excluded = new Map<number, string>();
  let best = 1; // most valid partials (own included) any round reached, for the error
  for (;;) {
    const remaining = r.deadline - m.now();
    const candidates = orderPeers(m.transport).filter((p) => !excluded.has(p));
    if (remaining <= 0 || candidates.length < r.threshold - 1) {
      m.metrics?.rounds.inc({ outcome: "failed" });
      throw notEnough(r, best, excluded, remaining <= 0 ? candidates : []);
    }
    const chosen = candidates.slice(0, r.threshold - 1);
    const signers = [r.index, ...chosen].sort((a, b) => a - b);
    // with a reachable spare peer, a round leaves time for another; otherwise it gets all that is left
    const spare = candidates.slice(chosen.length).some((p) => m.transport.isReachable(p));
    const timeout = Math.max(MIN_PEER_TIMEOUT_MS, Math.floor(spare ? remaining / 2 : remaining));
    const own = m.pool.sign(r.key.poolId, r.root, m.scheme.weight(signers, r.index));
    const body = { groupPublicKey: r.key.pubkey, body: r.body, signingRoot: r.root, signers };
    const settled = await Promise.allSettled(
      chosen.map(async (peer) => {
        const t0 = m.now();
        const reply = await m.transport.requestPartial(peer, body, timeout);
        m.metrics?.peerSeconds.observe({ peer: String(peer) }, (m.now() - t0) / 1000);
        return { peer, partial: reply.partial };
      }),
    );
    const ownPartial = await own;
    const partials: { peer: number; partial: Uint8Array }[] = [];
    settled.forEach((s, i) => {
      const peer = chosen[i]!;
      if (s.status === "fulfilled") partials.push(s.value);
      else {
        const code =
          s.reason instanceof PeerCallError
            ? s.reason.reportCode
            : isAppError(s.reason)
              ? s.reason.code
              : "ERR_INTERNAL";
        excluded.set(peer, code);
        m.metrics?.peerFailures.inc({ peer: String(peer), code });
        m.logger.warn("Peer gave no partial", { peer, code, pubkey: shortKey(r.key.pubkeyHex) });
      }
    });
    best = Math.max(best, 1 + partials.length);
    if (partials.length === chosen.length) {
      const combined = tryCombine(m.scheme, [ownPartial, ...partials.map((p) => p.partial)]);
      if (combined !== null && m.scheme.verify(r.key.pubkey, r.root, combined)) {
        m.metrics?.rounds.inc({ outcome: "combined" });
        return combined;
      }
      const bad = partials.filter(
        (p) => !m.scheme.verifyPartial(r.key.cluster.sharePublicKeys[p.peer - 1]!, signers, p.peer, r.root, p.partial),
      );
      if (bad.length === 0) {
        // our own partial would be at fault: never release, never blame a peer
        m.metrics?.rounds.inc({ outcome: "failed" });
        throw new ThresholdError(
          { code: ThresholdErrorCode.CombineFailed, groupPublicKey: r.key.pubkeyHex, badPeers: [] },
          "the combined signature does not verify and no peer's partial is at fault",
        );
      }
      for (const b of bad) {
        excluded.set(b.peer, ClusterErrorCode.BadPartial);
        m.metrics?.badPartials.inc({ peer: String(b.peer) });
        m.logger.warn("Bad partial signature from a peer: dropped", {
          peer: b.peer,
          pubkey: shortKey(r.key.pubkeyHex),
        });
      }
      best = Math.max(1, best - bad.length);
    }
    m.metrics?.rounds.inc({ outcome: "retried" });
  }
}

function tryCombine(scheme: PartialSignatureScheme, partials: Uint8Array[]): Uint8Array | null {
  try {
    return scheme.combine(partials);
  } catch {
    return null; // a partial that is not a point: found and blamed by the per-partial check
  }
}

/** Reachable peers first, then by index (stable sets keep the Lagrange weights cached). */
function orderPeers(t: PeerTransport): number[] {
  return [...t.peers].sort((a, b) => Number(!t.isReachable(a)) - Number(!t.isReachable(b)) || a - b);
}

function notEnough(r: GatherRequest, got: number, excluded: Map<number, string>, unasked: number[]): ThresholdError {
  const peers: Record<string, string> = {};
  for (const [p, c] of excluded) peers[String(p)] = c;
  for (const p of unasked) peers[String(p)] ??= "ERR_THRESHOLD_DEADLINE";
  return new ThresholdError(
    { code: ThresholdErrorCode.NotEnoughPartials, groupPublicKey: r.key.pubkeyHex, threshold: r.threshold, got, peers },
    `only ${got} of ${r.threshold} partial signatures before the deadline; nothing was signed`,
  );
}
