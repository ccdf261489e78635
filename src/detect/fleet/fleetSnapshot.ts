import type { SqlTx, Store } from "../../store/index.js";
import {
  groupId,
  hostKeysRepository,
  type KeyObservationRow,
  type KeyRef,
  sweepRepository,
} from "../../store/index.js";
import type { Detection, HostState, KeyGroup, Observation } from "../types.js";
import { keyDetections } from "./fleetRules.js";

/** Everything a full detection pass needs, read in one transaction. */
export async function loadSweepInput(
  store: Store,
  now: number,
  keyMovedWindowMs: number,
): Promise<{ groups: KeyGroup[]; hosts: HostState[] }> {
  return store.tx(
    async (tx) => {
      const rows = await hostKeysRepository.snapshot(tx, now - 2 * keyMovedWindowMs);
      const hosts = await sweepRepository.hosts(tx);
      const unreachable = await sweepRepository.unreachableSources(tx);
      const inMaintenance = await sweepRepository.hostsInMaintenance(tx, now);
      const byHost = new Map<number, HostState>();
      for (const h of hosts) byHost.set(h.id, { ...h, inMaintenance: inMaintenance.has(h.id), sources: [] });
      for (const s of unreachable) byHost.get(s.hostId)?.sources.push({ ...s, reachable: false });
      return { groups: groupRows(rows), hosts: [...byHost.values()] };
    },
    { readOnly: true },
  );
}

/** Rows ordered by (owner, chain, key) → one group per key. */
function groupRows(rows: readonly KeyObservationRow[]): KeyGroup[] {
  const out: KeyGroup[] = [];
  let cur: KeyGroup | null = null;
  for (const r of rows) {
    if (cur === null || cur.ownerId !== r.ownerId || cur.chain !== r.chain || cur.pubkey !== r.pubkey) {
      cur = { ownerId: r.ownerId, chain: r.chain, pubkey: r.pubkey, obs: [] };
      out.push(cur);
    }
    cur.obs.push(toObservation(r));
  }
  return out;
}

function toObservation(r: KeyObservationRow): Observation {
  return {
    hostId: r.hostId,
    hostName: r.hostName,
    present: r.present,
    active: r.active,
    certainty: r.certainty,
    stale: r.stale,
    signerId: r.signerId,
    activeSince: r.activeSince,
    inactiveSince: r.inactiveSince,
    firstSeenAt: r.firstSeenAt,
  };
}

/**
 * The key rules for a few keys inside a caller's transaction (the ingestion path: one report's keys,
 * so double_active fires as soon as the second host reports): the plain functions, no batch.
 */
export async function detectKeys(
  tx: SqlTx,
  refs: readonly KeyRef[],
  now: number,
  keyMovedWindowMs: number,
): Promise<Detection[]> {
  const groups = await hostKeysRepository.loadGroups(tx, refs);
  return refs.flatMap((r) =>
    keyDetections({ ...r, obs: (groups.get(groupId(r)) ?? []).map(toObservation) }, now, keyMovedWindowMs),
  );
}
