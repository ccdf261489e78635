import type { SignState } from "../../chains/cometbft/index.js";
import { CometSignError, CometSignErrorCode, compareHrs, formatHrs, type Hrs } from "../../chains/cometbft/index.js";
import type { Store } from "../../store/index.js";
import { LockClass, lockKeys, cometSignStateRepository as repo } from "../../store/index.js";
import { ed25519Verify } from "../../util/curve25519.js";
import { AppError } from "../../util/errors.js";
import type { Settled } from "../../util/groupCommit.js";
import { toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import { type DecisionEvent, type DecisionEventSink, decided } from "../decisionEvents.js";
import { type ChainProtection, settleAll } from "../engine/chainProtection.js";
import { type ChainKeys, type ChainRules, ProtectionEngine } from "../engine/protectionEngine.js";
import { ReleasedPositions } from "../engine/releasedPositions.js";
import type { ProtectionMetrics } from "../metrics.js";
import { type CometBatchItem, decideCometBatch, unknownKey } from "./decideCometBatch.js";
import type { CometSigningKey, CometSignOutcome, CometSignRequest } from "./types.js";

export interface CometBftProtectionOptions {
  /** Most requests decided in one transaction (far below PostgreSQL's shared lock table). */
  maxBatch?: number;
  /** Independent group-commit queues (PostgreSQL only; SQLite has one writer). */
  shards?: number;
}

export interface CometBftProtectionModules {
  store: Store;
  logger: Logger;
  metrics?: ProtectionMetrics | null;
  /** Every decision also goes to the message bus's outbox, in the decision's transaction (--events). */
  events?: DecisionEventSink | null;
}

export enum CometImportErrorCode {
  SignatureInvalid = "ERR_COMETBFT_STATE_SIGNATURE_INVALID",
}

export class CometImportError extends AppError<{ code: CometImportErrorCode; chainId: string; pubkey: string }> {}

export interface ImportResult {
  /** false when the stored state was already at or above the imported one (it is never lowered). */
  applied: boolean;
  stored: SignState;
}

const CHAIN = "cometbft";
const keyOf = (chainId: string, pubkey: Uint8Array): string => `${chainId}\n${Buffer.from(pubkey).toString("hex")}`;

/** A key on one chain: CometBFT keeps one sign state per (chain id, key). */
export interface CometKeyRef {
  chainId: string;
  pubkey: Uint8Array;
}

/**
 * CometBFT's part of the engine: the height/round/step rule over the sign-state repository. The variant
 * of the one flow: the signature is made inside the transaction (decideCometBatch), because a repeat
 * that differs only in its timestamp must get the stored signature back, not a new one.
 */
const cometRules = (released: ReleasedPositions<Hrs>): ChainRules<CometBatchItem, CometSignOutcome> => ({
  chain: CHAIN,
  decide: (tx, batch) => decideCometBatch(tx, batch, released),
  released: ({ req, id }) => released.note(String(id), req.hrs),
  storeBehind: (e): e is CometSignError => e instanceof CometSignError && e.code === CometSignErrorCode.StoreBehind,
  keyFields: ({ req }) => ({ chainId: req.chainId, pubkey: shortKey(toHex(req.pubkey)) }),
  event: cometEvent,
  outcome: (o) => (o.repeat ? "repeat" : "new"),
  isRefusal: (e) => e instanceof CometSignError,
  refusedMessage: "Signing refused by double-sign protection",
  failedMessage: "CometBFT protection batch failed; refusing its requests",
  failedFields: (size) => ({ size }),
});

const cometKeys: ChainKeys<CometKeyRef> = {
  keyOf: (k) => keyOf(k.chainId, k.pubkey),
  upsert: async (tx, keys) => {
    const ids = new Map<string, number | Error>();
    for (const k of keys) ids.set(keyOf(k.chainId, k.pubkey), await repo.register(tx, k.chainId, k.pubkey));
    return ids;
  },
};

/**
 * CometBFT double-sign protection over the store: `sign` resolves with a signature only after the
 * state that forbids any conflicting signature at that height/round/step is committed (record before
 * release). Requests are decided one key at a time in arrival order: in process by group commit, across
 * processes by an advisory lock per (chain id, key) on PostgreSQL or BEGIN IMMEDIATE on SQLite.
 */
export class CometBftProtection implements ChainProtection<CometSignRequest, CometSignOutcome, CometKeyRef> {
  readonly chain = CHAIN;
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly signers = new Map<string, CometSigningKey>();
  private readonly engine: ProtectionEngine<CometKeyRef, CometBatchItem, CometSignOutcome>;

  constructor(opts: CometBftProtectionOptions, modules: CometBftProtectionModules) {
    this.store = modules.store;
    this.logger = modules.logger;
    this.engine = new ProtectionEngine(
      { maxBatch: opts.maxBatch ?? 256, shards: opts.shards ?? 4 },
      modules,
      cometRules(new ReleasedPositions<Hrs>(compareHrs)),
      cometKeys,
    );
  }

  /** Makes a key signable on one chain (creates its state row at 0/0/0 the first time). */
  async registerKey(chainId: string, key: CometSigningKey): Promise<void> {
    await this.engine.keyId({ chainId, pubkey: key.publicKey });
    this.signers.set(keyOf(chainId, key.publicKey), key);
  }

  /** Decides, signs and records; resolves only after the commit. Refusals reject with CometSignError. */
  async sign(req: CometSignRequest): Promise<CometSignOutcome> {
    const started = performance.now();
    const log = { chainId: req.chainId, pubkey: shortKey(toHex(req.pubkey)), kind: req.kind, hrs: formatHrs(req.hrs) };
    const labels = { kind: req.kind, fields: () => log };
    const key = this.signers.get(keyOf(req.chainId, req.pubkey));
    const id = this.engine.cachedId(req);
    if (key === undefined || id === undefined) {
      const e = unknownKey(req);
      this.engine.refused(labels, e);
      throw e;
    }
    const out = await this.engine.decide({ req, id, key }, labels);
    this.logger.info("CometBFT signature released", {
      ...log,
      outcome: out.repeat ? "repeat" : "new",
      timestampReplaced: out.timestamp !== null,
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
    return out;
  }

  decide(batch: readonly CometSignRequest[]): Promise<Settled<CometSignOutcome>[]> {
    return settleAll(batch, (req) => this.sign(req));
  }

  /** Requests waiting for a decision. */
  get pending(): number {
    return this.engine.pending;
  }

  /**
   * Imports a starting state (priv_validator_state.json of tmkms, Horcrux or FilePV). The stored state
   * is never lowered: the import applies only if it is above what the store holds. Sign bytes come with
   * a signature that must verify under the key, or the import is refused and nothing changes.
   */
  async importState(chainId: string, pubkey: Uint8Array, state: SignState): Promise<ImportResult> {
    if (
      state.signBytes !== null &&
      state.signature !== null &&
      !ed25519Verify(pubkey, state.signBytes, state.signature)
    ) {
      throw new CometImportError(
        { code: CometImportErrorCode.SignatureInvalid, chainId, pubkey: toHex(pubkey) },
        "the state's signature does not verify under this key over its sign bytes",
      );
    }
    return this.store.tx(async (tx) => {
      const id = await repo.register(tx, chainId, pubkey);
      await lockKeys(tx, [{ cls: LockClass.CometBft, id }]);
      const [row] = (await repo.load(tx, [id])).values();
      const stored: SignState = {
        hrs: { height: row!.height, round: row!.round, step: row!.step },
        signBytes: row!.signBytes,
        signature: row!.signature,
      };
      if (compareHrs(state.hrs, stored.hrs) <= 0) return { applied: false, stored };
      await repo.advance(tx, { id, ...state.hrs, signBytes: state.signBytes, signature: state.signature });
      this.logger.info("CometBFT sign state imported", {
        chainId,
        pubkey: shortKey(toHex(pubkey)),
        from: formatHrs(stored.hrs),
        to: formatHrs(state.hrs),
      });
      return { applied: true, stored: state };
    });
  }

  async state(chainId: string, pubkey: Uint8Array): Promise<SignState | null> {
    const row = await this.store.tx((tx) => repo.find(tx, chainId, pubkey), { readOnly: true });
    if (row === null) return null;
    return {
      hrs: { height: row.height, round: row.round, step: row.step },
      signBytes: row.signBytes,
      signature: row.signature,
    };
  }

  /** Waits until every accepted request is decided; takes no new ones. */
  close(): Promise<void> {
    return this.engine.close();
  }
}

const STEP_NAMES = ["none", "propose", "prevote", "precommit"] as const;

function cometEvent({ req }: CometBatchItem, result: Settled<CometSignOutcome> | undefined): DecisionEvent {
  return {
    chain: CHAIN,
    key: toHex(req.pubkey),
    scope: req.chainId,
    ...decided(result, (o) => o.repeat),
    request: {
      type: req.kind,
      height: String(req.hrs.height),
      round: req.hrs.round,
      step: STEP_NAMES[req.hrs.step] ?? String(req.hrs.step),
    },
  };
}
