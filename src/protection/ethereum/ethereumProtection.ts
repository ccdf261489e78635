import { ProtectionErrorCode, SlashingProtectionError } from "../../chains/ethereum/protectionErrors.js";
import type { ProtectionOutcome, ProtectionRequest } from "../../chains/ethereum/protectionTypes.js";
import { type EthSigningRepository, ethSigningRepository } from "../../store/ethereum/ethSigningRepository.js";
import { ethValidatorsRepository } from "../../store/ethereum/ethValidatorsRepository.js";
import { lockKeysStatement } from "../../store/locks.js";
import type { Store } from "../../store/types.js";
import { GroupCommit, type Settled } from "../../util/groupCommit.js";
import { bytesEqual, toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import { opt } from "../../util/opt.js";
import { type DecisionEvent, type DecisionEventSink, decided, recordDecisions } from "../decisionEvents.js";
import { KeyIdRegistry } from "../keyIdRegistry.js";
import type { ProtectionMetrics } from "../metrics.js";
import { type BatchItem, batchLockKeys, decideBatch } from "./decideBatch.js";
import { ReleasedPositions } from "./releasedPositions.js";

export interface EthereumProtectionOptions {
  genesisValidatorsRoot: Uint8Array;
  /**
   * Most requests decided in one transaction. PostgreSQL keeps advisory locks in a shared table
   * (max_locks_per_transaction x max_connections, 6,400 by default), so a batch must stay well below it.
   */
  maxBatch?: number;
  /** Independent group-commit queues (PostgreSQL only; SQLite has one writer). Default 1. */
  shards?: number;
}

export interface EthereumProtectionModules {
  store: Store;
  logger: Logger;
  metrics?: ProtectionMetrics | null;
  /** Every decision also goes to the message bus's outbox, in the decision's transaction (--events). */
  events?: DecisionEventSink | null;
}

const CHAIN = "ethereum";

/**
 * EIP-3076 slashing protection over the store. `checkAndRecord` resolves only after the record that
 * forbids a conflicting twin is committed (record before release); concurrent requests share one
 * transaction (group commit) and are decided one key at a time in arrival order.
 */
export class EthereumProtection {
  readonly genesisValidatorsRoot: Uint8Array;
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly metrics: ProtectionMetrics | null;
  private readonly events: DecisionEventSink | null;
  private readonly repo: EthSigningRepository;
  private readonly ids: KeyIdRegistry<Uint8Array>;
  private readonly decisions: GroupCommit<BatchItem, ProtectionOutcome>;
  private readonly released = new ReleasedPositions();

  private constructor(opts: EthereumProtectionOptions, modules: EthereumProtectionModules) {
    this.genesisValidatorsRoot = opts.genesisValidatorsRoot;
    this.store = modules.store;
    this.logger = modules.logger;
    this.metrics = modules.metrics ?? null;
    this.events = modules.events ?? null;
    this.repo = ethSigningRepository(this.store.dialect);
    const postgres = this.store.dialect === "postgres";
    this.decisions = new GroupCommit(
      // one queue of up to 1,024 on both engines: on PostgreSQL more, smaller concurrent batches were
      // slower (bench/RESULTS.md, shard sweep) and 1,024 locks a process stay far below the lock table
      { maxBatch: opts.maxBatch ?? 1024, shards: postgres ? (opts.shards ?? 1) : 1 },
      (batch) => this.flush(batch),
      (item) => item.id,
    );
    this.ids = new KeyIdRegistry(keyHex, (keys) => this.store.tx((tx) => ethValidatorsRepository.upsert(tx, keys)));
  }

  /**
   * Opens protection for one chain. An unbound database is bound to the given genesis validators root;
   * a database bound to another root is refused before anything is written.
   */
  static async open(opts: EthereumProtectionOptions, modules: EthereumProtectionModules): Promise<EthereumProtection> {
    const bound = await modules.store.tx(async (tx) => {
      const existing = await ethValidatorsRepository.getGenesisRoot(tx);
      if (existing !== null) return existing;
      return ethValidatorsRepository.bindGenesisRoot(tx, opts.genesisValidatorsRoot);
    });
    assertGenesis(bound, opts.genesisValidatorsRoot);
    return new EthereumProtection(opts, modules);
  }

  async checkAndRecord(req: ProtectionRequest): Promise<ProtectionOutcome> {
    const id = this.ids.cached(req.pubkey) ?? (await this.ids.id(req.pubkey));
    try {
      const outcome = await this.decisions.submit({ req, id });
      this.metrics?.decisions.inc({ chain: CHAIN, kind: req.kind, outcome });
      return outcome;
    } catch (e) {
      if (e instanceof SlashingProtectionError) {
        this.metrics?.decisions.inc({ chain: CHAIN, kind: req.kind, outcome: "refused" });
        this.metrics?.refusals.inc({ chain: CHAIN, code: e.code });
        this.logger.warn("Signing refused by slashing protection", {
          pubkey: shortKey(toHex(req.pubkey)),
          ...e.toObject(),
        });
      }
      throw e;
    }
  }

  /** Registers keys ahead of their first request (the signer does it for every loaded key). */
  async registerValidators(pubkeys: readonly Uint8Array[]): Promise<void> {
    await Promise.all(pubkeys.map((p) => this.ids.id(p)));
  }

  async setEnabled(pubkeys: readonly Uint8Array[], enabled: boolean): Promise<void> {
    const ids = await Promise.all(pubkeys.map((p) => this.ids.id(p)));
    await this.store.tx((tx) => ethValidatorsRepository.setEnabled(tx, ids, enabled));
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

  private async flush(batch: BatchItem[]): Promise<Settled<ProtectionOutcome>[]> {
    const started = performance.now();
    try {
      // the key locks travel with BEGIN (PostgreSQL), the writes with COMMIT: three round trips a batch
      const results = await this.store.tx(
        async (tx) => {
          const decisions = await decideBatch(tx, this.repo, batch, this.released);
          await recordDecisions(this.events, tx, batch, decisions, ethEvent);
          return decisions;
        },
        {
          ...opt("beginWith", lockKeysStatement(this.store.dialect, batchLockKeys(batch))),
        },
      );
      this.noteReleased(batch, results);
      this.metrics?.batchSize.observe({ chain: CHAIN }, batch.length);
      this.metrics?.batchSeconds.observe({ chain: CHAIN }, (performance.now() - started) / 1000);
      return results;
    } catch (e) {
      // Fail closed: nothing of this batch was committed, so no request of it may be signed.
      this.metrics?.storeErrors.inc({ chain: CHAIN });
      this.logger.error("Slashing-protection batch failed; refusing its requests", { size: batch.length }, e);
      throw e;
    }
  }

  /** After the commit: what this batch releases raises the keys' positions; a store found behind is logged. */
  private noteReleased(batch: readonly BatchItem[], results: readonly Settled<ProtectionOutcome>[]): void {
    batch.forEach(({ req, id }, i) => {
      const r = results[i];
      if (r?.ok === true) {
        if (req.kind === "block") this.released.noteBlock(id, req.slot);
        else this.released.noteTarget(id, req.target);
      } else if (r?.error instanceof SlashingProtectionError && r.error.code === ProtectionErrorCode.StoreBehind) {
        this.logger.error("Slashing-protection database went backwards: the key stops signing", {
          pubkey: shortKey(toHex(req.pubkey)),
          ...r.error.toObject(),
        });
      }
    });
  }
}

function ethEvent({ req }: BatchItem, result: Settled<ProtectionOutcome> | undefined): DecisionEvent {
  return {
    chain: CHAIN,
    key: toHex(req.pubkey),
    scope: null,
    ...decided(result, (o) => o === "repeat"),
    request:
      req.kind === "block"
        ? { type: "block", slot: String(req.slot), signing_root: rootHex(req.signingRoot) }
        : {
            type: "attestation",
            source_epoch: String(req.source),
            target_epoch: String(req.target),
            signing_root: rootHex(req.signingRoot),
          },
  };
}

const rootHex = (r: Uint8Array | null): string | null => (r instanceof Uint8Array ? toHex(r) : null);

function keyHex(k: Uint8Array): string {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString("hex");
}

export function assertGenesis(bound: Uint8Array, given: Uint8Array): void {
  if (!bytesEqual(bound, given)) {
    throw new SlashingProtectionError({
      code: ProtectionErrorCode.GenesisMismatch,
      expected: toHex(bound),
      given: toHex(given),
    });
  }
}
