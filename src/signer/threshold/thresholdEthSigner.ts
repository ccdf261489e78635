import type { EthNetwork, EthSszTypes } from "../../chains/ethereum/index.js";
import {
  parseSigningRequest,
  SigningErrorCode,
  type SigningRequest,
  SigningRequestError,
} from "../../chains/ethereum/index.js";
import type { BlsPool, ClusterKey, PartialSignatureScheme, ThresholdKeyShare } from "../../keys/index.js";
import { KeyError, KeyErrorCode, ThresholdError, ThresholdErrorCode } from "../../keys/index.js";
import type { EthereumProtection } from "../../protection/index.js";
import { BadRequestError } from "../../util/errors.js";
import { bytesEqual, toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import type { SigningGate } from "../../util/signingGate.js";
import { checkAndRecordEth, protectedFields } from "../ethereum/ethSigningSteps.js";
import { gatherSignature } from "./gather.js";
import type { ThresholdMetrics } from "./metrics.js";
import type { PartialReply, PartialRequest, PeerTransport } from "./types.js";

export interface ThresholdSignerOptions {
  /** This node's share index. */
  index: number;
  threshold: number;
  /** Node count N (share indices are 1..N). */
  nodes: number;
  /** How long one request may take to gather T partials before it is refused. */
  deadlineMs: number;
}

export interface ThresholdSignerModules {
  network: EthNetwork;
  types: EthSszTypes;
  pool: BlsPool;
  protection: EthereumProtection;
  scheme: PartialSignatureScheme;
  logger: Logger;
  metrics: ThresholdMetrics | null;
  gates?: SigningGate[];
  now?: () => number;
}

/** A group key this node holds a share of. */
export interface GroupKey {
  pubkey: Uint8Array;
  pubkeyHex: string;
  cluster: ClusterKey;
  poolId: number;
  file: string | null;
}

function normalizePubkey(id: string): string {
  const s = id.toLowerCase();
  return s.startsWith("0x") ? s : `0x${s}`;
}

/**
 * The Ethereum signing service of a threshold node, for both of its roles:
 * - `sign` (a validator client's request to this node): parse, genesis check, gates (doppelganger),
 *   this node's slashing protection — committed — then gather T-1 weighted partials from peers over the
 *   full request, combine with its own, verify against the group key, answer;
 * - `signPartial` (a peer's request): the same checks and protection on the full request, then this
 *   node's weighted partial only.
 * Every node signs at most one of two conflicting messages, and T > N/2 means two conflicting
 * messages would need a common signer: no slashable pair can be combined (docs/threshold.md).
 */
export class ThresholdEthSigner {
  private readonly keys = new Map<string, GroupKey>();
  private nextPoolId = 1;
  private transport: PeerTransport | null = null;
  private readonly now: () => number;

  constructor(
    readonly opts: ThresholdSignerOptions,
    private readonly m: ThresholdSignerModules,
  ) {
    this.now = m.now ?? (() => performance.now());
  }

  /** The cluster transport is created after the signer (it serves `signPartial`), then attached. */
  attachTransport(t: PeerTransport): void {
    this.transport = t;
  }

  get keyCount(): number {
    return this.keys.size;
  }

  listKeys(): GroupKey[] {
    return [...this.keys.values()];
  }

  getKey(pubkeyHex: string): GroupKey | undefined {
    return this.keys.get(normalizePubkey(pubkeyHex));
  }

  /** Loads shares (secrets go to the pool and are zeroed) and registers the group keys in protection. */
  async addShares(shares: readonly ThresholdKeyShare[]): Promise<GroupKey[]> {
    const fresh = shares.filter((s) => !this.keys.has(s.key.groupPublicKeyHex) && s.index === this.opts.index);
    await this.m.protection.registerValidators(fresh.map((s) => s.key.groupPublicKey));
    const added = fresh.map(
      (s): GroupKey => ({
        pubkey: s.key.groupPublicKey,
        pubkeyHex: s.key.groupPublicKeyHex,
        cluster: s.key,
        poolId: this.nextPoolId++,
        file: s.file,
      }),
    );
    this.m.pool.addKeys(added.map((a, i) => ({ id: a.poolId, secret: fresh[i]!.secret })));
    for (const a of added) this.keys.set(a.pubkeyHex, a);
    return added;
  }

  /** A validator client's request: record here, gather partials, combine, verify, answer. */
  async sign(pubkeyHex: string, body: unknown): Promise<{ signature: Uint8Array; request: SigningRequest }> {
    const started = this.now();
    const request = parseSigningRequest(body, this.m.types, this.m.network);
    const key = this.requireKey(pubkeyHex);
    await checkAndRecordEth(this.m, key, request);
    const transport = this.transport;
    if (transport === null) throw new KeyError({ code: KeyErrorCode.KeySigning }, "cluster transport not started");
    const signature = await gatherSignature(
      {
        index: this.opts.index,
        threshold: this.opts.threshold,
        deadline: started + this.opts.deadlineMs,
        key,
        root: request.signingRoot,
        body: JSON.stringify(body),
      },
      { ...this.m, transport, now: this.now },
    );
    this.m.logger.info("Signed with the cluster", {
      type: request.type,
      pubkey: shortKey(key.pubkeyHex),
      ...protectedFields(request),
      ms: Math.round((this.now() - started) * 100) / 100,
    });
    return { signature, request };
  }

  /** A peer's request for this node's partial over the full signing request. */
  async signPartial(from: number, req: PartialRequest): Promise<PartialReply> {
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      throw new BadRequestError("request_json is not JSON", "request_json");
    }
    const request = parseSigningRequest(body, this.m.types, this.m.network);
    if (!bytesEqual(request.signingRoot, req.signingRoot)) {
      throw new SigningRequestError({
        code: SigningErrorCode.RootMismatch,
        computed: toHex(request.signingRoot),
        given: toHex(req.signingRoot),
      });
    }
    const key = this.requireKey(toHex(req.groupPublicKey));
    if (
      req.signers.length !== this.opts.threshold ||
      !req.signers.includes(this.opts.index) ||
      !req.signers.includes(from) ||
      req.signers.some((i) => i > this.opts.nodes)
    ) {
      throw new ThresholdError(
        { code: ThresholdErrorCode.BadInput, field: "signers" },
        `signer set must name ${this.opts.threshold} of nodes 1..${this.opts.nodes}, this node and the requester`,
      );
    }
    const weight = this.m.scheme.weight(req.signers, this.opts.index);
    await checkAndRecordEth(this.m, key, request);
    const partial = await this.m.pool.sign(key.poolId, request.signingRoot, weight);
    this.m.logger.info("Partial signature for a peer", {
      peer: from,
      type: request.type,
      pubkey: shortKey(key.pubkeyHex),
      ...protectedFields(request),
    });
    return { index: this.opts.index, partial };
  }

  private requireKey(pubkeyHex: string): GroupKey {
    const key = this.getKey(pubkeyHex);
    if (key === undefined)
      throw new KeyError(
        { code: KeyErrorCode.KeyUnknown, pubkey: normalizePubkey(pubkeyHex) },
        "no share loaded for this group key",
      );
    return key;
  }
}
