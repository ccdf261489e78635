import { SubstrateError, SubstrateErrorCode } from "../../chains/substrate/errors.js";
import { GRANDPA_STAGE_NAMES, type SubstrateRecord } from "../../chains/substrate/types.js";
import {
  keyRefString,
  type SubstrateKeyRef,
  substrateKeysRepository,
} from "../../store/substrate/substrateKeysRepository.js";
import {
  type SubstrateSigningRepository,
  substrateSigningRepository,
} from "../../store/substrate/substrateSigningRepository.js";
import type { Store } from "../../store/types.js";
import { jsonSafe } from "../../util/errors.js";
import { GroupCommit, type Settled } from "../../util/groupCommit.js";
import { toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import { type DecisionEvent, type DecisionEventSink, decided, recordDecisions } from "../decisionEvents.js";
import { KeyIdRegistry } from "../keyIdRegistry.js";
import type { ProtectionMetrics } from "../metrics.js";
import { type BatchItem, decideBatch } from "./decideBatch.js";
import type { SubstrateOutcome, SubstrateProtectionRequest } from "./types.js";

export interface SubstrateProtectionOptions {
  /** Most requests decided in one transaction (PostgreSQL keeps advisory locks in a bounded shared table). */
  maxBatch?: number;
  /** Independent group-commit queues (PostgreSQL only; SQLite has one writer). */
  shards?: number;
}

export interface SubstrateProtectionModules {
  store: Store;
  logger: Logger;
  metrics?: ProtectionMetrics | null;
  /** Every decision also goes to the message bus's outbox, in the decision's transaction (--events). */
  events?: DecisionEventSink | null;
}

const CHAIN = "substrate";

/** Metric label of a request: what kind of message it is. */
export function kindOf(records: readonly SubstrateRecord[]): string {
  const r = records[0];
  if (r === undefined) return "none";
  return r.kind === "grandpa" ? `grandpa_${GRANDPA_STAGE_NAMES[r.stage]}` : r.kind;
}

/**
 * Substrate slashing protection over the shared store. `checkAndRecord` resolves only after the
 * record that forbids a conflicting twin is committed (record before release); concurrent requests
 * share one transaction (group commit) and are decided one key at a time in arrival order, with
 * PostgreSQL advisory locks (LockClass.Substrate) serialising instances that share a database.
 */
export class SubstrateProtection {
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly metrics: ProtectionMetrics | null;
  private readonly events: DecisionEventSink | null;
  private readonly repo: SubstrateSigningRepository;
  private readonly decisions: GroupCommit<BatchItem, SubstrateOutcome>;
  private readonly ids: KeyIdRegistry<SubstrateKeyRef>;

  constructor(opts: SubstrateProtectionOptions, modules: SubstrateProtectionModules) {
    this.store = modules.store;
    this.logger = modules.logger;
    this.metrics = modules.metrics ?? null;
    this.events = modules.events ?? null;
    this.repo = substrateSigningRepository(this.store.dialect);
    const postgres = this.store.dialect === "postgres";
    this.decisions = new GroupCommit(
      { maxBatch: opts.maxBatch ?? (postgres ? 256 : 1024), shards: postgres ? (opts.shards ?? 4) : 1 },
      (batch) => this.flush(batch),
      (item) => item.id,
    );
    this.ids = new KeyIdRegistry(
      (k) => keyRefString(k.keyType, k.publicKey),
      (keys) => this.store.tx(async (tx) => boundIds(keys, await substrateKeysRepository.upsert(tx, keys))),
    );
  }

  async checkAndRecord(req: SubstrateProtectionRequest): Promise<SubstrateOutcome> {
    const kind = kindOf(req.records);
    const id = this.ids.cached(req) ?? (await this.ids.id(req));
    try {
      const outcome = await this.decisions.submit({ req, id });
      this.metrics?.decisions.inc({ chain: CHAIN, kind, outcome });
      return outcome;
    } catch (e) {
      if (e instanceof SubstrateError && e.isRefusal) this.refused(req.keyType, req.publicKey, kind, e);
      throw e;
    }
  }

  /**
   * Logs and counts a refusal decided before protection (no payload, payload mismatch) the same way
   * as one decided here, so every refusal shows in the log and the metrics.
   */
  refused(keyType: string, publicKey: Uint8Array, kind: string, e: SubstrateError): void {
    this.metrics?.decisions.inc({ chain: CHAIN, kind, outcome: "refused" });
    this.metrics?.refusals.inc({ chain: CHAIN, code: e.code });
    this.logger.warn("Signing refused by slashing protection", {
      keyType,
      publicKey: shortKey(toHex(publicKey)),
      ...e.toObject(),
    });
  }

  /**
   * Registers keys ahead of their first request (the signer does it for its keystore's keys). A key
   * whose public key the database files under another key type is refused (one public key, one key
   * type): it is logged and returned, and every request for it fails with ERR_SUBSTRATE_KEY_TYPE_CONFLICT.
   * Store errors throw.
   */
  async registerKeys(keys: readonly SubstrateKeyRef[]): Promise<SubstrateError[]> {
    const settled = await Promise.allSettled(keys.map((k) => this.ids.id(k)));
    const conflicts: SubstrateError[] = [];
    for (const r of settled) {
      if (r.status === "fulfilled") continue;
      if (!(r.reason instanceof SubstrateError) || r.reason.code !== SubstrateErrorCode.KeyTypeConflict) throw r.reason;
      conflicts.push(r.reason);
      this.logger.error("Substrate key refused: its public key is filed under another key type", r.reason.toObject());
    }
    return conflicts;
  }

  /**
   * Throws ERR_SUBSTRATE_KEY_TYPE_CONFLICT unless the key is (or can now be) filed under this key type in
   * the database; binds it there if it was not filed yet. Every signature, protected or not, needs it.
   */
  async bindKey(key: SubstrateKeyRef): Promise<void> {
    if (this.ids.cached(key) === undefined) await this.ids.id(key);
  }

  async setEnabled(keys: readonly SubstrateKeyRef[], enabled: boolean): Promise<void> {
    const ids = await Promise.all(keys.map((k) => this.ids.id(k)));
    await this.store.tx((tx) => substrateKeysRepository.setEnabled(tx, ids, enabled));
  }

  get pending(): number {
    return this.decisions.pending;
  }

  async close(): Promise<void> {
    await this.decisions.close();
    await this.ids.close();
  }

  private async flush(batch: BatchItem[]): Promise<Settled<SubstrateOutcome>[]> {
    const started = performance.now();
    try {
      const results = await this.store.tx(async (tx) => {
        const decisions = await decideBatch(tx, this.repo, batch);
        await recordDecisions(this.events, tx, batch, decisions, substrateEvent);
        return decisions;
      });
      this.metrics?.batchSize.observe({ chain: CHAIN }, batch.length);
      this.metrics?.batchSeconds.observe({ chain: CHAIN }, (performance.now() - started) / 1000);
      return results;
    } catch (e) {
      // Fail closed: nothing of this batch was committed, so no request of it may be signed.
      this.metrics?.storeErrors.inc({ chain: CHAIN });
      this.logger.error(
        "Slashing-protection batch failed; refusing its requests",
        { chain: CHAIN, size: batch.length },
        e,
      );
      throw e;
    }
  }
}

/** Ids of the registered keys; a key whose public key is filed under another key type gets its refusal. */
export function boundIds(
  keys: readonly SubstrateKeyRef[],
  rows: Map<string, { id: number; keyType: string }>,
): Map<string, number | Error> {
  const out = new Map<string, number | Error>();
  for (const k of keys) {
    const ref = keyRefString(k.keyType, k.publicKey);
    const row = rows.get(ref);
    if (row === undefined) continue;
    out.set(
      ref,
      row.keyType === k.keyType
        ? row.id
        : new SubstrateError({
            code: SubstrateErrorCode.KeyTypeConflict,
            keyType: k.keyType,
            publicKey: toHex(k.publicKey),
            boundTo: row.keyType,
          }),
    );
  }
  return out;
}

function substrateEvent({ req }: BatchItem, result: Settled<SubstrateOutcome> | undefined): DecisionEvent {
  return {
    chain: CHAIN,
    key: toHex(req.publicKey),
    scope: req.keyType,
    ...decided(result, (o) => o === "repeat"),
    request: { type: kindOf(req.records), records: req.records.map((r) => jsonSafe(r)) },
  };
}
