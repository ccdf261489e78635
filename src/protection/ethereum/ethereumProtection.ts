import type { ProtectionOutcome, ProtectionRequest } from "../../chains/ethereum/index.js";
import { ProtectionErrorCode, SlashingProtectionError } from "../../chains/ethereum/index.js";
import type { Store } from "../../store/index.js";
import {
  type EthSigningRepository,
  ethSigningRepository,
  ethValidatorsRepository,
  lockKeysStatement,
} from "../../store/index.js";
import { BytesMap } from "../../util/bytesMap.js";
import type { Settled } from "../../util/groupCommit.js";
import { bytesEqual, toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import { opt } from "../../util/opt.js";
import { type DecisionEvent, type DecisionEventSink, decided } from "../decisionEvents.js";
import { type ChainProtection, settleAll } from "../engine/chainProtection.js";
import { type ChainKeys, type ChainRules, ProtectionEngine } from "../engine/protectionEngine.js";
import type { ProtectionMetrics } from "../metrics.js";
import { type BatchItem, batchLockKeys, decideBatch } from "./decideBatch.js";
import { ReleasedPositions } from "./releasedPositions.js";

export interface EthereumProtectionOptions {
  genesisValidatorsRoot: Uint8Array;
  /**
   * Most requests decided in one transaction. PostgreSQL keeps advisory locks in a shared table
   * (max_locks_per_transaction x max_connections, 6,400 by default): maxBatch x overlap locks per
   * process must fit beside every other signer's. Default: 1,024 on SQLite; 512 on PostgreSQL, where two
   * half-size batches in flight keep this process and the server busy at once (bench/RESULTS.md, issue 20).
   */
  maxBatch?: number;
  /** Independent group-commit queues (PostgreSQL only; SQLite has one writer). Default 1. */
  shards?: number;
  /** Batches of a queue in flight at once (PostgreSQL only). Default 2. */
  overlap?: number;
}

export interface EthereumProtectionModules {
  store: Store;
  logger: Logger;
  metrics?: ProtectionMetrics | null;
  /** Every decision also goes to the message bus's outbox, in the decision's transaction (--events). */
  events?: DecisionEventSink | null;
}

const CHAIN = "ethereum";

/** Ethereum's part of the engine: EIP-3076 rules over the Ethereum signing repository. */
function ethereumRules(
  repo: EthSigningRepository,
  dialect: Store["dialect"],
  released: ReleasedPositions,
): ChainRules<BatchItem, ProtectionOutcome> {
  return {
    chain: CHAIN,
    // the key locks travel with BEGIN and the state read (PostgreSQL), the writes with COMMIT: two round trips a batch
    beginWith: (batch) => lockKeysStatement(dialect, batchLockKeys(batch)),
    decide: (tx, batch) => decideBatch(tx, repo, batch, released),
    released: ({ req, id }) => {
      if (req.kind === "block") released.noteBlock(id, req.slot);
      else released.noteTarget(id, req.target);
    },
    storeBehind: (e): e is SlashingProtectionError =>
      e instanceof SlashingProtectionError && e.code === ProtectionErrorCode.StoreBehind,
    keyFields: ({ req }) => ({ pubkey: shortKey(toHex(req.pubkey)) }),
    event: ethEvent,
    outcome: (o) => o,
    isRefusal: (e) => e instanceof SlashingProtectionError,
    refusedMessage: "Signing refused by slashing protection",
    failedMessage: "Slashing-protection batch failed; refusing its requests",
    failedFields: (size) => ({ size }),
  };
}

const ethKeys: ChainKeys<Uint8Array> = {
  keyOf: keyHex,
  upsert: (tx, keys) => ethValidatorsRepository.upsert(tx, keys),
  setEnabled: (tx, ids, enabled) => ethValidatorsRepository.setEnabled(tx, ids, enabled),
  // by the key's bytes: no hex string built per request
  idCache: () => new BytesMap<number>(),
};

/**
 * EIP-3076 slashing protection over the store. `checkAndRecord` resolves only after the record that
 * forbids a conflicting twin is committed (record before release); concurrent requests share one
 * transaction (group commit) and are decided one key at a time in arrival order (protection engine).
 */
export class EthereumProtection implements ChainProtection<ProtectionRequest, ProtectionOutcome, Uint8Array> {
  readonly chain = CHAIN;
  readonly genesisValidatorsRoot: Uint8Array;
  private readonly engine: ProtectionEngine<Uint8Array, BatchItem, ProtectionOutcome>;

  private constructor(opts: EthereumProtectionOptions, modules: EthereumProtectionModules) {
    this.genesisValidatorsRoot = opts.genesisValidatorsRoot;
    const store = modules.store;
    const metrics = modules.metrics ?? null;
    const repo = ethSigningRepository(store.dialect, {
      onCacheMiss: (n) => metrics?.cacheMisses.inc({ chain: CHAIN }, n),
    });
    const rules = ethereumRules(repo, store.dialect, new ReleasedPositions());
    // one queue: on PostgreSQL more queues were slower (bench/RESULTS.md, shard sweep); its two overlapping
    // batches of 512 hold at most 1,024 locks a process
    const maxBatch = opts.maxBatch ?? (store.dialect === "postgres" ? 512 : 1024);
    this.engine = new ProtectionEngine(
      { maxBatch, shards: opts.shards ?? 1, ...opt("overlap", opts.overlap) },
      modules,
      rules,
      ethKeys,
    );
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
    const id = this.engine.cachedId(req.pubkey) ?? (await this.engine.keyId(req.pubkey));
    return this.engine.decide({ req, id }, { kind: req.kind, fields: () => ({ pubkey: shortKey(toHex(req.pubkey)) }) });
  }

  decide(batch: readonly ProtectionRequest[]): Promise<Settled<ProtectionOutcome>[]> {
    return settleAll(batch, (req) => this.checkAndRecord(req));
  }

  /** Registers keys ahead of their first request (the signer does it for every loaded key). */
  async registerValidators(pubkeys: readonly Uint8Array[]): Promise<void> {
    await Promise.all(pubkeys.map((p) => this.engine.keyId(p)));
  }

  setEnabled(pubkeys: readonly Uint8Array[], enabled: boolean): Promise<void> {
    return this.engine.setEnabled(pubkeys, enabled);
  }

  /** Requests waiting for a decision (back-pressure signal for transports). */
  get pending(): number {
    return this.engine.pending;
  }

  /** Waits until every accepted request is decided; takes no new ones. */
  close(): Promise<void> {
    return this.engine.close();
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
