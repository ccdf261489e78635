import type { SqlTx, Store } from "../store/index.js";
import {
  type HostKeyRow,
  historyRepository,
  hostKeysRepository,
  hostsRepository,
  type KeyRef,
  lockKeys,
} from "../store/index.js";
import type { Logger } from "../util/logger.js";
import { applySources, type InlineItem, reportRow, rowChanges } from "./ingestInline.js";
import { diffInventory } from "./inventoryDiff.js";
import { changeCost, type RowChange, writeChanges } from "./inventoryWriter.js";
import { keyLock } from "./keyLock.js";
import type { AgentReport } from "./reportFormat.js";

export interface LargeOptions {
  /** Key rows (each with its history intervals) per transaction at most. */
  sliceRows: number;
  historyMax: number;
  reportsKept: number;
  now: () => number;
}

export interface LargeModules {
  store: Store;
  logger: Logger;
  onKeysChanged?: ((tx: SqlTx, keys: KeyRef[], now: number) => Promise<void>) | undefined;
}

/** The host was deleted while its report was written in slices. */
export class HostDeleted extends Error {}

/** Lets every callback that is ready run (signing requests queue their transaction) before the next slice. */
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Writes one report whose inventory change is larger than a slice, in bounded steps:
 *
 * 1. claim: heartbeat, node sources, the report row; the host's digest becomes NULL (an inventory is
 *    being written: whatever arrives next counts as a change), and `reports_total` after this report
 *    is the guard every later step checks;
 * 2. the stored inventory, read in pages in key order, merged with the report's keys (sorted the
 *    same way) into chunks of at most `sliceRows` keys; each chunk is diffed on its own (a key range
 *    holds every stored row and every reported key in it, so the diff is exact);
 * 3. each chunk's changes written in slices of at most `sliceRows` key rows, one transaction each,
 *    with their own detection (alerts commit with the rows that caused them); the last slice stores
 *    the digest.
 *
 * Every synchronous step handles at most one chunk, and the event loop runs between steps. A crash
 * between slices leaves the digest NULL: the agent's next report is applied again in full. Another
 * report of the host (another process) moves `reports_total`: this one stops, the newer one describes
 * the host. A reader between slices sees each key either before or after this report, so the overlap
 * rule can see no pair that neither state has.
 */
export async function applyLarge(
  it: InlineItem,
  o: LargeOptions,
  m: LargeModules,
): Promise<{ hostId: number; changed: boolean }> {
  const hostId = it.hostId;
  await yieldToLoop();
  const claim = await m.store.tx(async (tx) => {
    const row = (await hostsRepository.lockHosts(tx, [hostId])).get(hostId);
    if (row === undefined) throw new HostDeleted("host was deleted while its report was stored; retry");
    const same = row.digest !== null && Buffer.compare(row.digest, it.report.digest) === 0;
    const at = Math.min(it.receivedAt, Math.max(row.lastReportAt, it.report.observedAt));
    await hostsRepository.touchHosts(tx, [
      {
        id: hostId,
        receivedAt: it.receivedAt,
        observedAt: it.report.observedAt,
        agentVersion: it.report.agentVersion,
        intervalMs: it.report.intervalMs,
        digest: null,
        reports: 1,
      },
    ]);
    if (same) return null;
    await hostsRepository.setDigest(tx, hostId, null);
    await applySources(tx, it, at);
    const [reportId] = await historyRepository.insertReports(tx, [reportRow(it)]);
    await historyRepository.pruneReports(tx, [hostId], o.reportsKept);
    return { at, reportId: reportId!, guard: await hostsRepository.reportsTotal(tx, hostId) };
  });
  if (claim === null) return { hostId, changed: false };

  const chunk = Math.max(1, Math.floor(o.sliceRows));
  const ctx = { hostId, ownerId: it.auth.ownerId, at: claim.at };
  const keys = it.report.keys;
  let ki = 0;
  let after: HostKeyRow | null = null;
  const pending: RowChange[] = [];
  const writeSlice = async (slice: RowChange[], last: boolean): Promise<boolean> => {
    await yieldToLoop();
    return m.store.tx(async (tx) => {
      if ((await hostsRepository.reportsTotal(tx, hostId)) !== claim.guard) return false;
      await lockKeys(
        tx,
        slice.map((c) => keyLock(c.row)),
      );
      const touched = await writeChanges(tx, slice, o);
      if (touched.length > 0) await m.onKeysChanged?.(tx, touched, o.now());
      if (last) await hostsRepository.setDigest(tx, hostId, it.report.digest);
      return true;
    });
  };
  // Writes the pending changes in full slices (a partial one waits for the next chunk unless `final`);
  // false once a newer report took the host over.
  const flush = async (final: boolean): Promise<boolean> => {
    for (;;) {
      let n = 0;
      let cost = 0;
      while (n < pending.length && (n === 0 || cost + changeCost(pending[n]!, o) <= o.sliceRows))
        cost += changeCost(pending[n++]!, o);
      const full = n < pending.length || cost >= o.sliceRows;
      if (!final && !full) return true;
      const slice = pending.splice(0, n);
      const last = final && pending.length === 0;
      if (!(await writeSlice(slice, last))) return false;
      if (last) return true;
    }
  };
  for (;;) {
    await yieldToLoop();
    const page: HostKeyRow[] = await m.store.tx((tx) => hostKeysRepository.loadHostKeysPage(tx, hostId, after, chunk), {
      readOnly: true,
    });
    const lastPage = page.length < chunk;
    const upper = lastPage ? null : page[page.length - 1]!;
    // Merge the page with the report's keys up to its last key (every remaining key on the last page).
    let pi = 0;
    while (pi < page.length || (ki < keys.length && (upper === null || compareKey(keys[ki]!, upper) <= 0))) {
      const existing = new Map<string, HostKeyRow>();
      const reported: AgentReport["keys"] = [];
      while (existing.size + reported.length < chunk) {
        const e = page[pi];
        const k = ki < keys.length && (upper === null || compareKey(keys[ki]!, upper) <= 0) ? keys[ki]! : undefined;
        if (e === undefined && k === undefined) break;
        if (k === undefined || (e !== undefined && compareKey(e, k) < 0)) {
          existing.set(`${e!.chain}|${e!.pubkey}`, e!);
          pi++;
        } else if (e === undefined || compareKey(k, e) < 0) {
          reported.push(k);
          ki++;
        } else {
          existing.set(`${e.chain}|${e.pubkey}`, e);
          reported.push(k);
          pi++;
          ki++;
        }
      }
      const diff = diffInventory(existing, { ...it.report, keys: reported }, ctx);
      pending.push(...rowChanges(diff, it.report.host, claim.at, claim.reportId));
      if (!(await flush(false))) return superseded(m, it);
      await yieldToLoop();
    }
    if (lastPage) break;
    after = upper;
  }
  if (!(await flush(true))) return superseded(m, it);
  return { hostId, changed: true };
}

function superseded(m: LargeModules, it: InlineItem): { hostId: number; changed: boolean } {
  m.logger.info("A newer report of the host took over; this one stops", { host: it.report.host });
  return { hostId: it.hostId, changed: true };
}

/** (chain, pubkey) order: the report's sort order and the store's byte order for these ASCII keys. */
function compareKey(a: { chain: string; pubkey: string }, b: { chain: string; pubkey: string }): number {
  if (a.chain !== b.chain) return a.chain < b.chain ? -1 : 1;
  return a.pubkey < b.pubkey ? -1 : a.pubkey > b.pubkey ? 1 : 0;
}
