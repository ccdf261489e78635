import type { PayloadView, SubstrateRecord } from "../../chains/substrate/index.js";
import {
  checkPublicKey,
  classifyPrehashed,
  classifySignRequest,
  parseCryptoType,
  parseKeyType,
  SubstrateError,
  SubstrateErrorCode,
} from "../../chains/substrate/index.js";
import type { ServedPair, SubstrateKeystore } from "../../keys/index.js";
import { kindOf, type SubstrateProtection } from "../../protection/index.js";
import { toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";

export interface SubstrateSignerOptions {
  /** Largest message signed (bytes); gRPC itself refuses larger frames first. */
  maxMessageBytes: number;
  /** Whether a BABE seal or BEEFY vote by this key must come with its payload (block proposal, commitment). */
  requirePayload(publicKeyHex: string): boolean;
}

export interface SubstrateSignerModules {
  keystore: SubstrateKeystore;
  protection: SubstrateProtection;
  logger: Logger;
}

/** One signing request as the transport hands it over (strings and bytes as they came off the wire). */
export interface SubstrateSignInput {
  keyType: string | undefined;
  crypto: string | undefined;
  publicKey: Uint8Array;
  message: Uint8Array;
  /** The wire payload, parsed only when the request gets that far (its errors come after PAIR_NOT_FOUND). */
  payload: () => PayloadView | null;
  /** ecdsa_sign_prehashed (BEEFY): the message is a 32-byte hash. */
  prehashed: boolean;
}

/** Metric kind of a refusal decided before a record exists (no payload, payload mismatch). */
const KIND_OF_KEY_TYPE: Record<string, string> = { gran: "grandpa", babe: "babe", para: "para", beef: "beefy" };

/**
 * The Substrate signing flow, outside the gRPC transport, in the steps every chain has:
 * parse (key type, crypto, key, size; classify the message into records) → gates (the key is held and
 * filed under this key type; enabled is checked by protection) → protect (records committed) → sign →
 * answer (the log line). A message about nothing slashable has no records and skips protect.
 */
export class SubstrateSigner {
  constructor(
    private readonly opts: SubstrateSignerOptions,
    private readonly m: SubstrateSignerModules,
  ) {}

  /** null: the keystore holds no such key. Throws the typed error of a refusal or of bad input. */
  async sign(input: SubstrateSignInput): Promise<Uint8Array | null> {
    // parse
    const keyType = parseKeyType(input.keyType);
    const crypto = parseCryptoType(input.crypto);
    const publicKey = checkPublicKey(crypto, input.publicKey);
    if (input.message.length > this.opts.maxMessageBytes) {
      throw new SubstrateError({
        code: SubstrateErrorCode.TooLarge,
        limit: this.opts.maxMessageBytes,
        given: input.message.length,
      });
    }
    // gates
    const pair = this.m.keystore.get(keyType, crypto, publicKey);
    if (pair === undefined || (input.prehashed && pair.signPrehashed === undefined)) return null;
    // protection follows the public key: it must be filed under this key type and no other
    await this.m.protection.bindKey({ keyType, publicKey });
    const started = performance.now();
    const records = this.classify(keyType, publicKey, input);
    // protect
    let outcome = "unprotected";
    if (records.length > 0) outcome = await this.m.protection.checkAndRecord({ keyType, publicKey, records });
    // sign
    const signature = await signWith(pair, input.message, input.prehashed);
    // answer
    this.m.logger.info("Substrate signature", {
      keyType,
      publicKey: shortKey(toHex(publicKey)),
      kind: kindOf(records),
      outcome,
      ...describe(records[0]),
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
    return signature;
  }

  /** The records a message commits the key to; a refusal here is counted and logged as protection's own. */
  private classify(keyType: string, publicKey: Uint8Array, input: SubstrateSignInput): SubstrateRecord[] {
    try {
      const opts = { requirePayload: this.opts.requirePayload(toHex(publicKey)) };
      const payload = input.payload();
      return input.prehashed
        ? classifyPrehashed(keyType, input.message, payload, opts)
        : classifySignRequest(keyType, input.message, payload, opts);
    } catch (e) {
      if (e instanceof SubstrateError && e.isRefusal) {
        this.m.protection.refused(keyType, publicKey, KIND_OF_KEY_TYPE[keyType] ?? keyType, e);
      }
      throw e;
    }
  }
}

function signWith(pair: ServedPair, message: Uint8Array, prehashed: boolean): Uint8Array | Promise<Uint8Array> {
  return prehashed ? pair.signPrehashed!(message) : pair.sign(message);
}

function describe(r: SubstrateRecord | undefined): Record<string, unknown> {
  if (r === undefined) return {};
  if (r.kind === "grandpa") return { setId: r.setId, round: r.round };
  if (r.kind === "babe") return { slot: r.slot };
  if (r.kind === "beefy") return { setId: r.setId, blockNumber: r.blockNumber };
  return { candidate: toHex(r.candidateHash), session: r.session };
}
