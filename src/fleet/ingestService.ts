import type { SqlTx, Store } from "../store/index.js";
import { type HostTouch, hostKeysRepository, hostsRepository, type KeyRef } from "../store/index.js";
import { GroupCommit, type Settled } from "../util/groupCommit.js";
import type { Logger } from "../util/logger.js";
import { applyInline, type InlineItem } from "./ingestInline.js";
import { applyLarge, HostDeleted, type LargeOptions } from "./ingestLarge.js";
import { hashString } from "./keyLock.js";
import type { FleetMetrics } from "./metrics.js";
import type { AgentReport } from "./reportFormat.js";
import type { ReportRateLimiter } from "./reportRateLimit.js";
import type { AuthContext } from "./tokens.js";

export interface IngestHooks {
  /**
   * Runs inside an ingestion transaction, after the inventory rows are written and with the changed
   * keys locked: detection raises double_active here, so its alert commits with the rows that caused it.
   */
  onKeysChanged?(tx: SqlTx, keys: KeyRef[], now: number): Promise<void>;
  /** After a batch committed (e.g. to wake the notification dispatcher). */
  onCommitted?(): void;
}

export interface IngestOptions {
  maxBatch?: number;
  now?: () => number;
  /**
   * Rows one transaction writes at most when a report changes a large inventory (SQLite only:
   * its driver is synchronous and its writer single, so a long transaction holds up signing).
   * Infinity: every report in one transaction (PostgreSQL's default).
   */
  sliceRows?: number;
  /** History intervals kept per key and host before the oldest are merged (default 16). */
  historyMax?: number;
  /** Report bodies kept per host (default 5). */
  reportsKept?: number;
}

export interface IngestModules {
  store: Store;
  logger: Logger;
  hooks?: IngestHooks;
  metrics?: FleetMetrics | null;
  /** Per-host report rate limit (checked before anything is stored). */
  rateLimit?: ReportRateLimiter | null;
}

/** A report on its way into the store (its host id is set in the batch's transaction). */
interface Item extends InlineItem {}

export interface IngestResult {
  hostId: number;
  /** false when the report repeated the host's previous one (only its heartbeat moved). */
  changed: boolean;
}

/** What a batch flush answers for one report: now, or once its sliced write is done. */
type Answer = { now: IngestResult } | { later: Promise<IngestResult> };

/**
 * SQLite: key rows per write transaction for a large inventory change. A slice of 250 rows (with their
 * history intervals and detection) took 32 ms on the shared 2-core build machine under a load average
 * of 20, so a signing request waits at most about that long behind a report of 10,000 keys (instead of
 * the whole report: 3 s there); smaller slices cost more transactions per report for little gain
 * (bench/ingestSlices.ts, bench/RESULTS.md).
 */
const SQLITE_SLICE_ROWS = 250;
const DEFAULT_HISTORY_MAX = 16;
const DEFAULT_REPORTS_KEPT = 5;

/**
 * Stores agent reports. Reports that arrive together share one transaction (group commit); the answer
 * is given only after it committed, so an agent drops a report from its queue only once it is stored.
 * One host at a time (row lock), one key at a time across hosts (advisory lock per key): two hosts
 * reporting the same key on two monitor processes see each other.
 *
 * On SQLite a report that changes more rows than one slice is written in bounded slices, one
 * transaction each, yielding to the event loop between them (ingestLarge.ts): the signer shares the
 * connection and the thread, and waits at most one slice.
 */
export class IngestService {
  private readonly commit: GroupCommit<Item, Answer>;
  private readonly hostIds = new Map<string, number>();
  private readonly now: () => number;
  private readonly large: LargeOptions;
  private readonly sliceRows: number;
  /** Hosts with a sliced write queued or running: their next reports queue behind it (arrival order). */
  private readonly pendingLarge = new Map<string, number>();
  private largeQueue: Promise<unknown> = Promise.resolve();

  constructor(
    opts: IngestOptions,
    private readonly modules: IngestModules,
  ) {
    this.now = opts.now ?? Date.now;
    const postgres = modules.store.dialect === "postgres";
    this.sliceRows = opts.sliceRows ?? (postgres ? Number.POSITIVE_INFINITY : SQLITE_SLICE_ROWS);
    this.large = {
      sliceRows: this.sliceRows,
      historyMax: opts.historyMax ?? DEFAULT_HISTORY_MAX,
      reportsKept: opts.reportsKept ?? DEFAULT_REPORTS_KEPT,
      now: this.now,
    };
    // PostgreSQL: a few batches commit at once (their WAL flushes are shared); a host always goes to
    // the same shard, so its reports keep their order and two shards never lock the same host row.
    this.commit = new GroupCommit(
      { maxBatch: opts.maxBatch ?? (postgres ? 200 : 500), shards: postgres ? 4 : 1 },
      (batch) => this.flush(batch),
      (it) => hashString(hostKey(it)),
    );
  }

  async ingest(auth: AuthContext, report: AgentReport): Promise<IngestResult> {
    const receivedAt = this.now();
    this.modules.rateLimit?.take(auth.ownerId, report.host);
    const a = await this.commit.submit({ auth, report, receivedAt, hostId: 0 });
    return "now" in a ? a.now : a.later;
  }

  async close(): Promise<void> {
    await this.commit.close();
    for (;;) {
      const q = this.largeQueue;
      await q.catch(() => undefined);
      if (q === this.largeQueue) return;
    }
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

  private async flush(batch: Item[]): Promise<Settled<Answer>[]> {
    const started = performance.now();
    try {
      let created = new Map<string, number>();
      let deferred: Item[] = [];
      const results = await this.modules.store.tx(async (tx) => {
        created = await this.resolveHosts(tx, batch);
        const d = await this.decide(tx, batch);
        deferred = d.deferred;
        return d.results;
      });
      // Only ids of a committed transaction are kept (a rolled-back insert's id does not exist).
      for (const [k, id] of created) this.hostIds.set(k, id);
      this.modules.metrics?.ingestSeconds.observe((performance.now() - started) / 1000);
      this.modules.metrics?.reports.inc({ result: "stored" }, batch.length - deferred.length);
      this.modules.hooks?.onCommitted?.();
      const later = new Map(deferred.map((it) => [it, this.enqueueLarge(it)]));
      return batch.map((it) => {
        const l = later.get(it);
        if (l !== undefined) return { ok: true, value: { later: l } };
        return results.get(it)!;
      });
    } catch (e) {
      this.modules.metrics?.reports.inc({ result: "store_error" }, batch.length);
      this.modules.logger.error("Report batch failed; agents will retry", { size: batch.length }, e);
      throw e;
    }
  }

  /** Runs a large report after every sliced write queued before it (one at a time, in arrival order). */
  private enqueueLarge(it: Item): Promise<IngestResult> {
    const key = hostKey(it);
    this.pendingLarge.set(key, (this.pendingLarge.get(key) ?? 0) + 1);
    const run = async (): Promise<IngestResult> => {
      const started = performance.now();
      try {
        const r = await applyLarge(it, this.large, {
          store: this.modules.store,
          logger: this.modules.logger,
          onKeysChanged: this.modules.hooks?.onKeysChanged,
        });
        this.modules.metrics?.ingestSeconds.observe((performance.now() - started) / 1000);
        this.modules.metrics?.reports.inc({ result: "stored" });
        this.modules.hooks?.onCommitted?.();
        return r;
      } catch (e) {
        this.modules.metrics?.reports.inc({ result: "store_error" });
        this.modules.logger.error("Large report failed; the agent will retry", { host: it.report.host }, e);
        if (e instanceof HostDeleted) this.forgetHost(it.auth.ownerId, it.report.host);
        throw e;
      } finally {
        const n = (this.pendingLarge.get(key) ?? 1) - 1;
        if (n === 0) this.pendingLarge.delete(key);
        else this.pendingLarge.set(key, n);
      }
    };
    const p = this.largeQueue.then(run, run);
    this.largeQueue = p.catch(() => undefined);
    return p;
  }

  private async decide(tx: SqlTx, batch: Item[]): Promise<{ results: Map<Item, Settled<Answer>>; deferred: Item[] }> {
    const results = new Map<Item, Settled<Answer>>();
    const deferred: Item[] = [];
    let rest = batch;
    if (tx.dialect === "postgres") {
      // Fast path, one statement: a report identical to its host's last one only moves the heartbeat.
      const perHost = new Map<number, number>();
      for (const it of batch) perHost.set(it.hostId, (perHost.get(it.hostId) ?? 0) + 1);
      const single = batch.filter((it) => perHost.get(it.hostId) === 1 && !this.pendingLarge.has(hostKey(it)));
      const done = await hostsRepository.heartbeatIfUnchanged(tx, single.map(touchOf));
      for (const it of single)
        if (done.has(it.hostId)) results.set(it, { ok: true, value: { now: { hostId: it.hostId, changed: false } } });
      rest = batch.filter((it) => !results.has(it));
    }
    if (rest.length > 0) await this.decideSlow(tx, rest, results, deferred);
    return { results, deferred };
  }

  /** Locks the hosts, compares digests, writes heartbeats and, for changed reports, the inventories. */
  private async decideSlow(
    tx: SqlTx,
    batch: Item[],
    results: Map<Item, Settled<Answer>>,
    deferred: Item[],
  ): Promise<void> {
    const locked = await hostsRepository.lockHosts(
      tx,
      batch.map((it) => it.hostId),
    );
    const touches = new Map<number, HostTouch>();
    const changed: { item: Item; at: number }[] = [];
    // Hosts whose reports go to the sliced path, in arrival order behind any still queued there.
    const largeHosts = new Set<number>();
    for (const it of batch) {
      const row = locked.get(it.hostId);
      if (row === undefined) {
        // Deleted since its id was cached: the agent's retry creates it again.
        this.forgetHost(it.auth.ownerId, it.report.host);
        results.set(it, { ok: false, error: new Error("host was deleted while its report was stored; retry") });
        continue;
      }
      if (largeHosts.has(it.hostId) || this.pendingLarge.has(hostKey(it))) {
        largeHosts.add(it.hostId);
        deferred.push(it);
        continue;
      }
      const same = row.digest !== null && Buffer.compare(row.digest, it.report.digest) === 0;
      if (!same && this.sliceRows !== Number.POSITIVE_INFINITY) {
        const size = it.report.keys.length + (await hostKeysRepository.countHostKeys(tx, it.hostId));
        if (size > this.sliceRows) {
          largeHosts.add(it.hostId);
          deferred.push(it);
          continue;
        }
      }
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
      results.set(it, { ok: true, value: { now: { hostId: it.hostId, changed: !same } } });
    }
    await hostsRepository.touchHosts(tx, [...touches.values()]);
    if (changed.length > 0)
      await applyInline(tx, changed, {
        historyMax: this.large.historyMax,
        reportsKept: this.large.reportsKept,
        now: this.now,
        onKeysChanged: this.modules.hooks?.onKeysChanged,
      });
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
