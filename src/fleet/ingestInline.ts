import type { SqlTx } from "../store/index.js";
import {
  historyRepository,
  hostKeysRepository,
  hostsRepository,
  type KeyRef,
  type LockKey,
  lockKeys,
} from "../store/index.js";
import { diffInventory, type InventoryChange } from "./inventoryDiff.js";
import { type RowChange, writeChanges } from "./inventoryWriter.js";
import { keyLock } from "./keyLock.js";
import type { AgentReport } from "./reportFormat.js";
import type { AuthContext } from "./tokens.js";

/** A report being stored (its host id is set in the batch's transaction). */
export interface InlineItem {
  auth: AuthContext;
  report: AgentReport;
  receivedAt: number;
  hostId: number;
}

export interface InlineOptions {
  historyMax: number;
  reportsKept: number;
  now: () => number;
  onKeysChanged?: ((tx: SqlTx, keys: KeyRef[], now: number) => Promise<void>) | undefined;
}

/**
 * Writes the inventories of the changed reports of one batch inside its transaction: diffs in memory
 * (in arrival order), then a few statements for the whole batch: reports, key rows, history intervals.
 */
export async function applyInline(
  tx: SqlTx,
  changed: { item: InlineItem; at: number }[],
  o: InlineOptions,
): Promise<void> {
  const hostIds = [...new Set(changed.map((c) => c.item.hostId))];
  const inventories = await hostKeysRepository.loadHostKeys(tx, hostIds);
  // Lock every key the changed hosts had or report, in one sorted order (no deadlock between batches).
  const locks: LockKey[] = [];
  for (const { item } of changed) {
    for (const k of item.report.keys)
      locks.push(keyLock({ ownerId: item.auth.ownerId, chain: k.chain, pubkey: k.pubkey }));
    for (const k of inventories.get(item.hostId)!.values()) locks.push(keyLock(k));
  }
  await lockKeys(tx, locks);
  const reportIds = await historyRepository.insertReports(
    tx,
    changed.map(({ item }) => reportRow(item)),
  );
  await historyRepository.pruneReports(tx, hostIds, o.reportsKept);
  const changes: RowChange[] = [];
  for (const [i, { item, at }] of changed.entries()) {
    await applySources(tx, item, at);
    const inv = inventories.get(item.hostId)!;
    const diff = diffInventory(inv, item.report, { hostId: item.hostId, ownerId: item.auth.ownerId, at });
    changes.push(...rowChanges(diff, item.report.host, at, reportIds[i]!));
    for (const row of diff.rows) inv.set(`${row.chain}|${row.pubkey}`, row);
  }
  const touched = await writeChanges(tx, changes, o);
  if (touched.length > 0) await o.onKeysChanged?.(tx, touched, o.now());
}

/** A diff as one change per row, flagged for history and detection. */
export function rowChanges(diff: InventoryChange, hostName: string, at: number, reportId: number): RowChange[] {
  const opens = new Set(diff.history);
  const touched = new Set(diff.touched.map((k) => `${k.chain}|${k.pubkey}`));
  return diff.rows.map((row) => ({
    row,
    opensHistory: opens.has(row),
    touched: touched.has(`${row.chain}|${row.pubkey}`),
    hostName,
    at,
    reportId,
  }));
}

export function reportRow(item: InlineItem) {
  return {
    hostId: item.hostId,
    tokenId: item.auth.tokenId,
    receivedAt: item.receivedAt,
    observedAt: item.report.observedAt,
    body: item.report.canonical,
  };
}

/** The host's node sources as reported (a source whose reachability did not change keeps its `since`). */
export async function applySources(tx: SqlTx, item: InlineItem, at: number): Promise<void> {
  const prev = await hostsRepository.loadSources(tx, item.hostId);
  for (const s of item.report.sources) {
    const p = prev.get(s.id);
    const since = p !== undefined && p.reachable === s.reachable ? p.since : at;
    await hostsRepository.upsertSource(tx, item.hostId, {
      source: s.id,
      chain: s.chain,
      reachable: s.reachable,
      error: s.error,
      info: JSON.stringify(s.info),
      since,
    });
    prev.delete(s.id);
  }
  for (const gone of prev.keys()) await hostsRepository.deleteSource(tx, item.hostId, gone);
}
