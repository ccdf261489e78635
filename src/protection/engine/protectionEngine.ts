import type { SqlTx, Store } from "../../store/index.js";
import type { AppError } from "../../util/errors.js";
import { GroupCommit, type Settled } from "../../util/groupCommit.js";
import type { Logger } from "../../util/logger.js";
import { opt } from "../../util/opt.js";
import { type DecisionEvent, type DecisionEventSink, recordDecisions } from "../decisionEvents.js";
import { type KeyIdCache, KeyIdRegistry } from "../keyIdRegistry.js";
import type { ProtectionMetrics } from "../metrics.js";

/** One request on its way through the engine: the chain's request, with the store id of its key. */
export interface KeyedItem {
  /** Store id of the key: the group-commit shard and the advisory-lock id. */
  id: number;
}

/** How the keys of one chain get their store ids (registered on first use, cached) and are switched on and off. */
export interface ChainKeys<K> {
  /** The key's identity as a string (registration map key, and the id cache's unless `idCache` is given). */
  keyOf(k: K): string;
  /** Registers keys in the transaction; their ids by `keyOf`, or the typed error that refuses one key. */
  upsert(tx: SqlTx, keys: K[]): Promise<Map<string, number | Error>>;
  /** Switches signing for the keys with these ids on or off (chains without the switch leave it out). */
  setEnabled?(tx: SqlTx, ids: number[], enabled: boolean): Promise<void>;
  /** A cache of known ids cheaper per lookup than a `keyOf` string (one per engine). */
  idCache?(): KeyIdCache<K>;
}

/**
 * What one chain supplies to the engine: its rule and repository (`decide`), what goes to the message bus
 * and the log. Everything else (group commit, key ids, metrics, the fail-closed flush) is the engine's.
 */
export interface ChainRules<Item extends KeyedItem, Out> {
  readonly chain: DecisionEvent["chain"];
  /**
   * Decides a batch inside one transaction (the pure rule over the repository's rows), in arrival order:
   * one result per item. A refused item fails alone; a throw fails the whole batch (fail closed).
   */
  decide(tx: SqlTx, batch: readonly Item[]): Promise<Settled<Out>[]>;
  /** A statement sent with BEGIN (the batch's key locks on PostgreSQL), if any. */
  beginWith?(batch: readonly Item[]): string | undefined;
  /** After the commit, before the answer is released: what the answer releases (the chain's ReleasedPositions). */
  released?(item: Item, out: Out): void;
  /** A refusal because the store went backwards (ReleasedPositions): logged at error, as the key stops signing. */
  storeBehind?(e: unknown): e is AppError;
  /** Which key a request is for, in log lines. */
  keyFields(item: Item): Record<string, unknown>;
  /** The decision as it goes to the message bus (--events). */
  event(item: Item, result: Settled<Out> | undefined): DecisionEvent;
  /** The metric outcome of a decision that let the request through. */
  outcome(out: Out): "new" | "repeat";
  /** A refusal (logged at warn, counted by code) as opposed to a failure (store down, shutting down). */
  isRefusal(e: unknown): e is AppError;
  /** Log line of a refusal, and of a batch that failed closed (context: `failedFields`). */
  readonly refusedMessage: string;
  readonly failedMessage: string;
  failedFields(size: number): Record<string, unknown>;
}

export interface EngineOptions {
  maxBatch: number;
  /** Independent group-commit queues; SQLite has one writer, so it always gets one. */
  shards: number;
  /** Batches of one queue in flight at once on PostgreSQL (default 2; 1 turns the overlap off). */
  overlap?: number;
}

export interface EngineModules {
  store: Store;
  logger: Logger;
  metrics?: ProtectionMetrics | null;
  /** Every decision also goes to the message bus's outbox, in the decision's transaction (--events). */
  events?: DecisionEventSink | null;
}

/** What a request's log line and metrics say about it (built only when needed). */
export interface RequestLabels {
  /** Metric label `kind`. */
  kind: string;
  /** Log context of a refusal (the error's fields are added). */
  fields(): Record<string, unknown>;
}

/**
 * The protection engine, written once for every chain: requests are decided in group-commit batches, one
 * transaction each; an answer is released only after its batch's records are committed (record before
 * release); a batch whose transaction fails refuses every request of it (fail closed); key ids are
 * registered on first use and cached; every decision is counted and every refusal logged the same way.
 */
export class ProtectionEngine<K, Item extends KeyedItem, Out> {
  readonly store: Store;
  private readonly logger: Logger;
  private readonly metrics: ProtectionMetrics | null;
  private readonly events: DecisionEventSink | null;
  private readonly decisions: GroupCommit<Item, Out>;
  private readonly ids: KeyIdRegistry<K>;

  constructor(
    opts: EngineOptions,
    modules: EngineModules,
    private readonly rules: ChainRules<Item, Out>,
    private readonly keys: ChainKeys<K>,
  ) {
    this.store = modules.store;
    this.logger = modules.logger;
    this.metrics = modules.metrics ?? null;
    this.events = modules.events ?? null;
    const postgres = this.store.dialect === "postgres";
    this.decisions = new GroupCommit(
      {
        maxBatch: opts.maxBatch,
        shards: postgres ? opts.shards : 1,
        // Two batches of a queue in flight: the next one's locks and state read run on the server while
        // this process decides and commits the one before. Only where the locks travel with BEGIN
        // (beginWith): the handoff comes when they are held, so a shared key keeps its arrival order.
        overlap: postgres && rules.beginWith !== undefined ? (opts.overlap ?? 2) : 1,
      },
      (batch, handoff) => this.flush(batch, handoff),
      (item) => item.id,
    );
    this.ids = new KeyIdRegistry(
      (k) => keys.keyOf(k),
      (ks) => this.store.tx((tx) => keys.upsert(tx, ks)),
      keys.idCache?.(),
    );
  }

  /** The key's id if this process has seen it (no await on the hot path). */
  cachedId(k: K): number | undefined {
    return this.ids.cached(k);
  }

  /** The key's id, registering the key on first use. */
  keyId(k: K): Promise<number> {
    return this.ids.id(k);
  }

  /** Resolves after the request's batch committed; a refusal rejects with the chain's typed error. */
  decide(item: Item, labels: RequestLabels): Promise<Out> {
    // then() rather than an async wrapper: one promise less per request on the hot path
    return this.decisions.submit(item).then(
      (out) => {
        this.metrics?.decisions.inc({ chain: this.rules.chain, kind: labels.kind, outcome: this.rules.outcome(out) });
        return out;
      },
      (e: unknown) => {
        if (this.rules.isRefusal(e)) this.refused(labels, e);
        throw e;
      },
    );
  }

  /** Counts and logs a refusal; also for one decided before the engine (bad payload, unknown key). */
  refused(labels: RequestLabels, e: AppError): void {
    this.metrics?.decisions.inc({ chain: this.rules.chain, kind: labels.kind, outcome: "refused" });
    this.metrics?.refusals.inc({ chain: this.rules.chain, code: e.code });
    this.logger.warn(this.rules.refusedMessage, { ...labels.fields(), ...e.toObject() });
  }

  async setEnabled(keys: readonly K[], enabled: boolean): Promise<void> {
    const set = this.keys.setEnabled;
    if (set === undefined) throw new Error(`${this.rules.chain}: keys cannot be disabled`);
    const ids = await Promise.all(keys.map((k) => this.ids.id(k)));
    await this.store.tx((tx) => set(tx, ids, enabled));
  }

  /** Requests waiting for a decision (back-pressure signal for transports). */
  get pending(): number {
    return this.decisions.pending;
  }

  /** Waits until every accepted request is decided; takes no new ones. */
  async close(): Promise<void> {
    await this.decisions.close();
    await this.ids.close();
  }

  private async flush(batch: Item[], handoff: () => void): Promise<Settled<Out>[]> {
    const started = performance.now();
    const chain = this.rules.chain;
    try {
      const lock = this.rules.beginWith?.(batch);
      const results = await this.store.tx(
        async (tx) => {
          const decided = await this.rules.decide(tx, batch);
          await recordDecisions(this.events, tx, batch, decided, (it, r) => this.rules.event(it, r));
          return decided;
        },
        { ...opt("beginWith", lock), onBegun: handoff },
      );
      this.afterCommit(batch, results);
      this.metrics?.batchSize.observe({ chain }, batch.length);
      this.metrics?.batchSeconds.observe({ chain }, (performance.now() - started) / 1000);
      return results;
    } catch (e) {
      // Fail closed: nothing of this batch was committed, so no request of it may be signed.
      this.metrics?.storeErrors.inc({ chain });
      this.logger.error(this.rules.failedMessage, this.rules.failedFields(batch.length), e);
      throw e;
    }
  }

  /** What this batch released raises the keys' positions; a store found behind is logged. */
  private afterCommit(batch: readonly Item[], results: readonly Settled<Out>[]): void {
    const { released, storeBehind } = this.rules;
    if (released === undefined && storeBehind === undefined) return;
    batch.forEach((item, i) => {
      const r = results[i];
      if (r === undefined) return;
      if (r.ok) released?.(item, r.value);
      else if (storeBehind?.(r.error) === true) {
        this.logger.error("Slashing-protection database went backwards: the key stops signing", {
          ...this.rules.keyFields(item),
          ...(r.error as AppError).toObject(),
        });
      }
    });
  }
}
