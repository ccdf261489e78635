import type { EthNetwork, EthSszTypes } from "../../chains/ethereum/index.js";
import { parseSigningRequest, type SigningRequest } from "../../chains/ethereum/index.js";
import type { BlsPool } from "../../keys/index.js";
import { KeyError, KeyErrorCode } from "../../keys/index.js";
import type { EthereumProtection } from "../../protection/index.js";
import { toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import type { SigningGate } from "../../util/signingGate.js";
import { ethGates, ethProtect, protectedFields } from "./ethSigningSteps.js";
import type { EthSignerMetrics } from "./metrics.js";

/** A key the signer holds. `file` is its keystore (deletable through the keymanager API). */
export interface SignerKey {
  pubkey: Uint8Array;
  pubkeyHex: string;
  poolId: number;
  file: string | null;
}

export interface EthSignerModules {
  network: EthNetwork;
  types: EthSszTypes;
  pool: BlsPool;
  protection: EthereumProtection;
  logger: Logger;
  metrics: EthSignerMetrics | null;
  gates?: SigningGate[];
}

/** Lower-case 0x form of a key identifier from a URL (the 0x prefix is optional there, as in Web3Signer). */
export function normalizePubkey(id: string): string {
  const s = id.toLowerCase();
  return s.startsWith("0x") ? s : `0x${s}`;
}

/**
 * The Ethereum signing path: parse and hash the request, check the genesis root and every gate,
 * record it in slashing protection (blocks and attestations) — committed before anything is signed —
 * then sign on the worker pool.
 */
export class EthSigner {
  private readonly keys = new Map<string, SignerKey>();
  private nextPoolId = 1;
  /** Bumped on every change of the key set (answers built from it are cached by version). */
  private keysVersion = 0;
  private publicKeysAnswer: { version: number; json: Buffer } | null = null;

  constructor(private readonly m: EthSignerModules) {}

  get keyCount(): number {
    return this.keys.size;
  }

  listKeys(): SignerKey[] {
    return [...this.keys.values()];
  }

  /** Changes with every key added or removed. */
  get version(): number {
    return this.keysVersion;
  }

  /**
   * The public keys as a JSON array, built once per key-set version: at 100,000 keys the list is
   * 10 MB of JSON, and validator clients poll it. Bytes, so a reply does not encode it again.
   */
  publicKeysJson(): Buffer {
    if (this.publicKeysAnswer?.version !== this.keysVersion) {
      // 0x-hex needs no escaping: joined, not stringified
      const keys = [...this.keys.keys()];
      const json = keys.length === 0 ? "[]" : `["${keys.join('","')}"]`;
      this.publicKeysAnswer = { version: this.keysVersion, json: Buffer.from(json, "utf8") };
    }
    return this.publicKeysAnswer.json;
  }

  getKey(pubkeyHex: string): SignerKey | undefined {
    return this.keys.get(normalizePubkey(pubkeyHex));
  }

  /** Hands secret keys to the pool (the buffers are zeroed) and registers them in slashing protection. */
  async addKeys(
    keys: readonly { pubkey: Uint8Array; secret: Uint8Array; file: string | null }[],
  ): Promise<SignerKey[]> {
    const fresh = keys.filter((k) => !this.keys.has(toHex(k.pubkey)));
    await this.m.protection.registerValidators(fresh.map((k) => k.pubkey));
    // one buffer for the batch's public keys rather than one per key (~300 bytes each at 100,000 keys)
    const packed = new Uint8Array(48 * fresh.length);
    const added = fresh.map((k, i) => {
      packed.set(k.pubkey, 48 * i);
      return {
        pubkey: packed.subarray(48 * i, 48 * i + 48),
        pubkeyHex: toHex(k.pubkey),
        poolId: this.nextPoolId++,
        file: k.file,
      };
    });
    this.m.pool.addKeys(added.map((a, i) => ({ id: a.poolId, secret: fresh[i]!.secret })));
    for (const a of added) this.keys.set(a.pubkeyHex, a);
    if (added.length > 0) this.keysVersion++;
    this.m.metrics?.keysLoaded.set(this.keys.size);
    return added;
  }

  removeKey(pubkeyHex: string): SignerKey | undefined {
    const k = this.keys.get(normalizePubkey(pubkeyHex));
    if (k === undefined) return undefined;
    this.keys.delete(k.pubkeyHex);
    this.keysVersion++;
    this.m.pool.removeKeys([k.poolId]);
    this.m.metrics?.keysLoaded.set(this.keys.size);
    return k;
  }

  /**
   * Signs a request body for a key; every refusal is a typed error (mapped to 400/404/412 by the API).
   * The steps every chain has: parse → gates → protect → sign → answer.
   */
  async sign(pubkeyHex: string, body: unknown): Promise<{ signature: Uint8Array; request: SigningRequest }> {
    const started = performance.now();
    // parse
    const request = parseSigningRequest(body, this.m.types, this.m.network);
    const key = this.getKey(pubkeyHex);
    if (key === undefined) {
      throw new KeyError(
        { code: KeyErrorCode.KeyUnknown, pubkey: normalizePubkey(pubkeyHex) },
        "no key loaded for this public key",
      );
    }
    ethGates(this.m, key, request);
    await ethProtect(this.m, key, request);
    // sign
    const signature = await this.m.pool.sign(key.poolId, request.signingRoot);
    // answer
    const ms = performance.now() - started;
    this.m.metrics?.signingSeconds.observe({ type: request.type }, ms / 1000);
    this.m.logger.info("Signed", {
      type: request.type,
      pubkey: shortKey(key.pubkeyHex),
      ...protectedFields(request),
      ms: Math.round(ms * 100) / 100,
    });
    return { signature, request };
  }
}
