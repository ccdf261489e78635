import {
  GRANDPA_STAGE_NAMES,
  SubstrateError,
  SubstrateErrorCode,
  type SubstrateRecord,
} from "../../chains/substrate/index.js";
import type { Store } from "../../store/index.js";
import {
  keyRefString,
  type SubstrateKeyRef,
  type SubstrateSigningRepository,
  substrateKeysRepository,
  substrateSigningRepository,
} from "../../store/index.js";
import { jsonSafe } from "../../util/errors.js";
import type { Settled } from "../../util/groupCommit.js";
import { toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import { type DecisionEvent, type DecisionEventSink, decided } from "../decisionEvents.js";
import { type ChainProtection, settleAll } from "../engine/chainProtection.js";
import { type ChainKeys, type ChainRules, ProtectionEngine, type RequestLabels } from "../engine/protectionEngine.js";
import type { ProtectionMetrics } from "../metrics.js";
import { type BatchItem, decideBatch } from "./decideBatch.js";
import { SubstrateReleased } from "./releasedPositions.js";
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

/** Substrate's part of the engine: the GRANDPA/BABE/BEEFY/parachain rules over the Substrate repository. */
function substrateRules(
  repo: SubstrateSigningRepository,
  released: SubstrateReleased,
): ChainRules<BatchItem, SubstrateOutcome> {
  return {
    chain: CHAIN,
    decide: (tx, batch) => decideBatch(tx, repo, batch, released),
    released: (item) => released.released(item.id, item),
    storeBehind: (e): e is SubstrateError => e instanceof SubstrateError && e.code === SubstrateErrorCode.StoreBehind,
    keyFields: ({ req }) => ({ keyType: req.keyType, publicKey: shortKey(toHex(req.publicKey)) }),
    event: substrateEvent,
    outcome: (o) => o,
    isRefusal: (e): e is SubstrateError => e instanceof SubstrateError && e.isRefusal,
    refusedMessage: "Signing refused by slashing protection",
    failedMessage: "Slashing-protection batch failed; refusing its requests",
    failedFields: (size) => ({ chain: CHAIN, size }),
  };
}

const substrateKeys: ChainKeys<SubstrateKeyRef> = {
  keyOf: (k) => keyRefString(k.keyType, k.publicKey),
  upsert: async (tx, keys) => boundIds(keys, await substrateKeysRepository.upsert(tx, keys)),
  setEnabled: (tx, ids, enabled) => substrateKeysRepository.setEnabled(tx, ids, enabled),
};

const labels = (keyType: string, publicKey: Uint8Array, kind: string): RequestLabels => ({
  kind,
  fields: () => ({ keyType, publicKey: shortKey(toHex(publicKey)) }),
});

/**
 * Substrate slashing protection over the shared store. `checkAndRecord` resolves only after the
 * record that forbids a conflicting twin is committed (record before release); concurrent requests
 * share one transaction (group commit) and are decided one key at a time in arrival order, with
 * PostgreSQL advisory locks (LockClass.Substrate) serialising instances that share a database.
 */
export class SubstrateProtection
  implements ChainProtection<SubstrateProtectionRequest, SubstrateOutcome, SubstrateKeyRef>
{
  readonly chain = CHAIN;
  private readonly logger: Logger;
  private readonly engine: ProtectionEngine<SubstrateKeyRef, BatchItem, SubstrateOutcome>;

  constructor(opts: SubstrateProtectionOptions, modules: SubstrateProtectionModules) {
    this.logger = modules.logger;
    const postgres = modules.store.dialect === "postgres";
    this.engine = new ProtectionEngine(
      { maxBatch: opts.maxBatch ?? (postgres ? 256 : 1024), shards: opts.shards ?? 4 },
      modules,
      substrateRules(substrateSigningRepository(modules.store.dialect), new SubstrateReleased()),
      substrateKeys,
    );
  }

  async checkAndRecord(req: SubstrateProtectionRequest): Promise<SubstrateOutcome> {
    const kind = kindOf(req.records);
    const id = this.engine.cachedId(req) ?? (await this.engine.keyId(req));
    return this.engine.decide({ req, id }, labels(req.keyType, req.publicKey, kind));
  }

  decide(batch: readonly SubstrateProtectionRequest[]): Promise<Settled<SubstrateOutcome>[]> {
    return settleAll(batch, (req) => this.checkAndRecord(req));
  }

  /**
   * Logs and counts a refusal decided before protection (no payload, payload mismatch) the same way
   * as one decided here, so every refusal shows in the log and the metrics.
   */
  refused(keyType: string, publicKey: Uint8Array, kind: string, e: SubstrateError): void {
    this.engine.refused(labels(keyType, publicKey, kind), e);
  }

  /**
   * Registers keys ahead of their first request (the signer does it for its keystore's keys). A key
   * whose public key the database files under another key type is refused (one public key, one key
   * type): it is logged and returned, and every request for it fails with ERR_SUBSTRATE_KEY_TYPE_CONFLICT.
   * Store errors throw.
   */
  async registerKeys(keys: readonly SubstrateKeyRef[]): Promise<SubstrateError[]> {
    const settled = await Promise.allSettled(keys.map((k) => this.engine.keyId(k)));
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
    if (this.engine.cachedId(key) === undefined) await this.engine.keyId(key);
  }

  setEnabled(keys: readonly SubstrateKeyRef[], enabled: boolean): Promise<void> {
    return this.engine.setEnabled(keys, enabled);
  }

  get pending(): number {
    return this.engine.pending;
  }

  close(): Promise<void> {
    return this.engine.close();
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
