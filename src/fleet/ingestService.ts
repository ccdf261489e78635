import {
  type HostKeyRow,
  hostKeysRepository,
  type KeyRef,
  type NewHistory,
} from "../store/fleet/hostKeysRepository.js";
import { type HostTouch, hostsRepository } from "../store/fleet/hostsRepository.js";
import { LockClass, type LockKey, lockKeys } from "../store/locks.js";
import type { SqlTx, Store } from "../store/types.js";
import { GroupCommit, type Settled } from "../util/groupCommit.js";
import type { Logger } from "../util/logger.js";
import { diffInventory } from "./inventoryDiff.js";
import type { FleetMetrics } from "./metrics.js";
import type { AgentReport } from "./reportFormat.js";
import type { AuthContext } from "./tokens.js";

export interface IngestHooks {
  /**
   * Runs inside the ingestion transaction, after the inventory is written and with the changed keys
   * locked: detection raises double_active here, so its alert commits with the report that caused it.
   */
  onKeysChanged?(tx: SqlTx, keys: KeyRef[], now: number): Promise<void>;
  /** After a batch committed (e.g. to wake the notification dispatcher). */
  onCommitted?(): void;
}

export interface IngestOptions {
  maxBatch?: number;
  now?: () => number;
}

export interface IngestModules {
  store: Store;
  logger: Logger;
  hooks?: IngestHooks;
  metrics?: FleetMetrics | null;
}

interface Item {
  auth: AuthContext;
  report: AgentReport;
  receivedAt: number;
  /** Set inside the batch's transaction (resolveHosts). */
  hostId: number;
}

export interface IngestResult {
  hostId: number;
  /** false when the report repeated the host's previous one (only its heartbeat moved). */
  changed: boolean;
}

/**
 * Stores agent reports. Reports that arrive together share one transaction (group commit); the answer
 * is given only after it committed, so an agent drops a report from its queue only once it is stored.
 * One host at a time (row lock), one key at a time across hosts (advisory lock per key): two hosts
 * reporting the same key on two monitor processes see each other.
 */
export class IngestService {
  private readonly commit: GroupCommit<Item, IngestResult>;
  private readonly hostIds = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    opts: IngestOptions,
    private readonly modules: IngestModules,
  ) {
    this.now = opts.now ?? Date.now;
    const postgres = modules.store.dialect === "postgres";
    // PostgreSQL: a few batches commit at once (their WAL flushes are shared); a host always goes to
    // the same shard, so its reports keep their order and two shards never lock the same host row.
    this.commit = new GroupCommit(
      { maxBatch: opts.maxBatch ?? (postgres ? 200 : 500), shards: postgres ? 4 : 1 },
      (batch) => this.flush(batch),
      (it) => hashString(hostKey(it)),
    );
  }

  async ingest(auth: AuthContext, report: AgentReport): Promise<IngestResult> {
    return this.commit.submit({ auth, report, receivedAt: this.now(), hostId: 0 });
  }

  async close(): Promise<void> {
    await this.commit.close();
  }

  /** Forgets a cached host id (after the host was deleted). */
  forgetHost(ownerId: number, name: string): void {
    this.hostIds.delete(`${ownerId}|${name}`);
  }

  /** Host ids of the batch: cached, or created in the batch's own transaction (no commit of their own). */
  private async resolveHosts(tx: SqlTx, batch: Item[]): Promise<Map<string, number>> {
    const created = new Map<string, number>();
    for (const it of batch) {
      const key = hostKey(it);
      const id = this.hostIds.get(key) ?? created.get(key);
      if (id !== undefined) {
        it.hostId = id;
        continue;
      }
      it.hostId = await hostsRepository.upsertHost(
        tx,
        it.auth.ownerId,
        it.report.host,
        it.report.intervalMs,
        it.receivedAt,
      );
      created.set(key, it.hostId);
    }
    return created;
  }

  private async flush(batch: Item[]): Promise<Settled<IngestResult>[]> {
    const started = performance.now();
    try {
      let created = new Map<string, number>();
      const results = await this.modules.store.tx(async (tx) => {
        created = await this.resolveHosts(tx, batch);
        return this.decide(tx, batch);
      });
      // Only ids of a committed transaction are kept (a rolled-back insert's id does not exist).
      for (const [k, id] of created) this.hostIds.set(k, id);
      this.modules.metrics?.ingestSeconds.observe((performance.now() - started) / 1000);
      this.modules.metrics?.reports.inc({ result: "stored" }, batch.length);
      this.modules.hooks?.onCommitted?.();
      return results;
    } catch (e) {
      this.modules.metrics?.reports.inc({ result: "store_error" }, batch.length);
      this.modules.logger.error("Report batch failed; agents will retry", { size: batch.length }, e);
      throw e;
    }
  }

  private async decide(tx: SqlTx, batch: Item[]): Promise<Settled<IngestResult>[]> {
    const results = new Map<Item, Settled<IngestResult>>();
    let rest = batch;
    if (tx.dialect === "postgres") {
      // Fast path, one statement: a report identical to its host's last one only moves the heartbeat.
      const perHost = new Map<number, number>();
      for (const it of batch) perHost.set(it.hostId, (perHost.get(it.hostId) ?? 0) + 1);
      const single = batch.filter((it) => perHost.get(it.hostId) === 1);
      const done = await hostsRepository.heartbeatIfUnchanged(tx, single.map(touchOf));
      for (const it of single)
        if (done.has(it.hostId)) results.set(it, { ok: true, value: { hostId: it.hostId, changed: false } });
      rest = batch.filter((it) => !results.has(it));
    }
    if (rest.length > 0) for (const [it, r] of await this.decideSlow(tx, rest)) results.set(it, r);
    return batch.map((it) => results.get(it)!);
  }

  /** Locks the hosts, compares digests, writes heartbeats and, for changed reports, the inventories. */
  private async decideSlow(tx: SqlTx, batch: Item[]): Promise<Map<Item, Settled<IngestResult>>> {
    const locked = await hostsRepository.lockHosts(
      tx,
      batch.map((it) => it.hostId),
    );
    const results = new Map<Item, Settled<IngestResult>>();
    const touches = new Map<number, HostTouch>();
    const changed: { item: Item; at: number }[] = [];
    for (const it of batch) {
      const row = locked.get(it.hostId);
      if (row === undefined) {
        // Deleted since its id was cached: the agent's retry creates it again.
        this.forgetHost(it.auth.ownerId, it.report.host);
        results.set(it, { ok: false, error: new Error("host was deleted while its report was stored; retry") });
        continue;
      }
      const same = row.digest !== null && Buffer.compare(row.digest, it.report.digest) === 0;
      // History time: when the agent observed it (a report queued while the monitor was down keeps its
      // time), but never before the host's previous report arrived nor after this one did (clock skew).
      const at = Math.min(it.receivedAt, Math.max(row.lastReportAt, it.report.observedAt));
      row.lastReportAt = it.receivedAt;
      if (!same) {
        row.digest = it.report.digest;
        changed.push({ item: it, at });
      }
      const t = touches.get(it.hostId);
      touches.set(it.hostId, {
        ...touchOf(it),
        digest: same ? (t?.digest ?? null) : it.report.digest,
        reports: (t?.reports ?? 0) + 1,
      });
      results.set(it, { ok: true, value: { hostId: it.hostId, changed: !same } });
    }
    await hostsRepository.touchHosts(tx, [...touches.values()]);
    if (changed.length > 0) await this.applyChanges(tx, changed);
    return results;
  }

  /**
   * Writes the inventories of the changed reports: diffs in memory (in arrival order), then a few
   * statements for the whole batch: reports, key rows, history intervals.
   */
  private async applyChanges(tx: SqlTx, changed: { item: Item; at: number }[]): Promise<void> {
    const inventories = await hostKeysRepository.loadHostKeys(tx, [...new Set(changed.map((c) => c.item.hostId))]);
    // Lock every key the changed hosts had or report, in one sorted order (no deadlock between batches).
    const locks: LockKey[] = [];
    for (const { item } of changed) {
      for (const k of item.report.keys)
        locks.push(keyLock({ ownerId: item.auth.ownerId, chain: k.chain, pubkey: k.pubkey }));
      for (const k of inventories.get(item.hostId)!.values()) locks.push(keyLock(k));
    }
    await lockKeys(tx, locks);
    const reportIds = await hostKeysRepository.insertReports(
      tx,
      changed.map(({ item }) => ({
        hostId: item.hostId,
        tokenId: item.auth.tokenId,
        receivedAt: item.receivedAt,
        observedAt: item.report.observedAt,
        body: item.report.canonical,
      })),
    );
    const rows = new Map<string, HostKeyRow>();
    const closes = new Map<string, { hostId: number; chain: string; pubkey: string; at: number }>();
    const opened = new Map<string, NewHistory>();
    const history: NewHistory[] = [];
    const touched = new Map<string, KeyRef>();
    for (const [i, { item, at }] of changed.entries()) {
      await this.applySources(tx, item, at);
      const inv = inventories.get(item.hostId)!;
      const diff = diffInventory(inv, item.report, { hostId: item.hostId, ownerId: item.auth.ownerId, at });
      for (const row of diff.rows) {
        const id = `${row.hostId}|${row.chain}|${row.pubkey}`;
        rows.set(id, row);
        inv.set(`${row.chain}|${row.pubkey}`, row);
      }
      for (const row of diff.history) {
        const id = `${row.hostId}|${row.chain}|${row.pubkey}`;
        // An interval opened earlier in this batch ends here; otherwise the stored open one does.
        const prev = opened.get(id);
        if (prev !== undefined) prev.toAt = at;
        else if (!closes.has(id)) closes.set(id, { hostId: row.hostId, chain: row.chain, pubkey: row.pubkey, at });
        const h: NewHistory = { row, hostName: item.report.host, fromAt: at, toAt: null, reportId: reportIds[i]! };
        opened.set(id, h);
        history.push(h);
      }
      for (const k of diff.touched) touched.set(`${k.ownerId}|${k.chain}|${k.pubkey}`, k);
    }
    await hostKeysRepository.upsertHostKeys(tx, [...rows.values()]);
    await hostKeysRepository.closeHistory(tx, [...closes.values()]);
    await hostKeysRepository.insertHistory(tx, history);
    if (touched.size > 0) await this.modules.hooks?.onKeysChanged?.(tx, [...touched.values()], this.now());
  }

  private async applySources(tx: SqlTx, item: Item, at: number): Promise<void> {
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
}

function touchOf(it: Item): HostTouch {
  return {
    id: it.hostId,
    receivedAt: it.receivedAt,
    observedAt: it.report.observedAt,
    agentVersion: it.report.agentVersion,
    intervalMs: it.report.intervalMs,
    digest: it.report.digest,
    reports: 1,
  };
}

function hostKey(it: Item): string {
  return `${it.auth.ownerId}|${it.report.host}`;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & 0x7fffffff;
}

/** Advisory lock id of one key of one owner (31-bit hash; a collision only serialises two keys). */
export function keyLock(k: KeyRef): LockKey {
  return { cls: LockClass.FleetKey, id: hashString(`${k.ownerId}|${k.chain}|${k.pubkey}`) };
}
