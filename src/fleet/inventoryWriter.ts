import type { SqlTx } from "../store/index.js";
import {
  type HistoryClose,
  type HostKeyRow,
  historyKeyId,
  historyRepository,
  hostKeysRepository,
  type KeyRef,
  type NewHistory,
} from "../store/index.js";

/** One key row a report changes, with what the change means for history and detection. */
export interface RowChange {
  row: HostKeyRow;
  /** The row's state changed: its open history interval ends and a new one begins at `at`. */
  opensHistory: boolean;
  /** The overlap rule must look at this key again. */
  touched: boolean;
  hostName: string;
  at: number;
  reportId: number;
}

export interface WriteOptions {
  /** Intervals kept per key and host; past it the oldest are merged down to half of it. */
  historyMax: number;
}

/**
 * Writes key rows, their history intervals and compaction in one transaction, in a few statements
 * for the whole list; returns the keys whose overlap must be checked again. A key listed twice (two
 * reports of one host in one batch) keeps arrival order: the earlier interval ends where the later
 * one begins, and the row written is the last.
 */
export async function writeChanges(tx: SqlTx, changes: readonly RowChange[], opts: WriteOptions): Promise<KeyRef[]> {
  const rows = new Map<string, HostKeyRow>();
  const closes = new Map<string, HistoryClose>();
  const opened = new Map<string, NewHistory>();
  const history: NewHistory[] = [];
  const touched = new Map<string, KeyRef>();
  for (const c of changes) {
    const id = historyKeyId(c.row);
    if (c.opensHistory) {
      const prev = opened.get(id);
      if (prev !== undefined) prev.toAt = c.at;
      else if (!closes.has(id))
        closes.set(id, { hostId: c.row.hostId, chain: c.row.chain, pubkey: c.row.pubkey, at: c.at });
      const h: NewHistory = { row: c.row, hostName: c.hostName, fromAt: c.at, toAt: null, reportId: c.reportId };
      opened.set(id, h);
      history.push(h);
      c.row.historyCount = (rows.get(id)?.historyCount ?? c.row.historyCount) + 1;
    } else {
      c.row.historyCount = rows.get(id)?.historyCount ?? c.row.historyCount;
    }
    rows.set(id, c.row);
    if (c.touched) touched.set(`${c.row.ownerId}|${c.row.chain}|${c.row.pubkey}`, c.row);
  }
  await historyRepository.closeHistory(tx, [...closes.values()]);
  await historyRepository.insertHistory(tx, history);
  const over = [...rows.values()].filter((r) => r.historyCount > opts.historyMax);
  if (over.length > 0) {
    const counts = await historyRepository.compact(tx, over, Math.max(2, Math.floor(opts.historyMax / 2)));
    for (const r of over) r.historyCount = counts.get(historyKeyId(r)) ?? r.historyCount;
  }
  await hostKeysRepository.upsertHostKeys(tx, [...rows.values()]);
  return [...touched.values()].map((k) => ({ ownerId: k.ownerId, chain: k.chain, pubkey: k.pubkey }));
}

/**
 * Cost of one change in key rows (a row with its history intervals is one); a key due for compaction
 * reads and rewrites its whole history on the host, so it counts as that many.
 */
export function changeCost(c: RowChange, opts: WriteOptions): number {
  return 1 + (c.opensHistory && c.row.historyCount + 1 > opts.historyMax ? opts.historyMax : 0);
}
