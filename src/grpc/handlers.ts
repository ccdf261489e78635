import {
  type CryptoType,
  PUBLIC_KEY_LENGTH,
  parseCryptoType,
  parseKeyType,
  SubstrateError,
  SubstrateErrorCode,
} from "../chains/substrate/index.js";
import type { SubstrateKeystore, VrfTranscriptSpec } from "../keys/index.js";
import type { SubstrateProtection } from "../protection/index.js";
import { SubstrateKeys, SubstrateSigner } from "../signer/index.js";
import type { Logger } from "../util/logger.js";
import { canonicalUint } from "../util/u64.js";
import { errorEnumOf, payloadView, RemoteKeystoreError, type WirePayload } from "./wire.js";

/** What a handler answers: the reply, and the typed error behind a non-zero error enum (for trailers, logs). */
export interface HandlerResult<R> {
  reply: R;
  errors: unknown[];
}

export interface HandlerOptions {
  /** Largest message signed (bytes); gRPC itself refuses larger frames first. */
  maxMessageBytes: number;
  /**
   * Whether a BABE seal or BEEFY vote by this key must come with its payload (block proposal,
   * commitment); true unless the operator turned it off for the key.
   */
  requirePayload(publicKeyHex: string): boolean;
}

export interface HandlerModules {
  keystore: SubstrateKeystore;
  protection: SubstrateProtection;
  logger: Logger;
}

export interface WireSignature {
  signature: Buffer;
  crypto_type: string;
  public_key: Buffer;
  error: RemoteKeystoreError;
}

interface WireSignRequest {
  key_type?: string | undefined;
  crypto_type?: string;
  public_key?: Buffer;
  public_keys?: Buffer[];
  message?: Buffer;
  payload?: WirePayload | null;
}

interface WireVrfData {
  label?: string;
  values?: { label?: string; value?: string; bytes_value?: Buffer; uint64_value?: string }[];
}

const EMPTY = Buffer.alloc(0);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const u8 = (b: Buffer | undefined): Uint8Array => (b === undefined ? new Uint8Array() : new Uint8Array(b));

/** BABE's slot-claim transcript labels (sp_consensus_babe make_vrf_transcript), for clients that send none. */
const BABE_VRF_LABELS = ["slot number", "current epoch", "chain randomness"];

/**
 * The RemoteKeystore calls, transport-free: every key lookup is in memory (unknown keys answer
 * PAIR_NOT_FOUND without touching the database); every slashable signature goes through protection,
 * whose record is committed before the signature is made and returned.
 */
export class RemoteKeystoreHandlers {
  /** The signing flow (parse, gates, protect, sign, answer); this class only translates the wire. */
  private readonly signer: SubstrateSigner;
  /** generate, insert and the VRF: keystore calls that bind keys but sign nothing slashable. */
  private readonly keyCalls: SubstrateKeys;

  constructor(
    opts: HandlerOptions,
    private readonly m: HandlerModules,
  ) {
    this.signer = new SubstrateSigner(opts, m);
    this.keyCalls = new SubstrateKeys(m);
  }

  publicKeys(crypto: CryptoType, req: { key_type?: string }): HandlerResult<{ public_keys: Buffer[] }> {
    const keyType = parseKeyType(req.key_type);
    return { reply: { public_keys: this.m.keystore.publicKeys(keyType, crypto).map(buf) }, errors: [] };
  }

  async generateNew(
    crypto: CryptoType,
    req: { key_type?: string; seed?: string },
  ): Promise<HandlerResult<{ public_key: Buffer; error: number }>> {
    try {
      const publicKey = await this.keyCalls.generate(req.key_type, crypto, req.seed);
      return { reply: { public_key: buf(publicKey), error: RemoteKeystoreError.Unknown }, errors: [] };
    } catch (e) {
      return { reply: { public_key: EMPTY, error: errorEnumOf(e) }, errors: [e] };
    }
  }

  async vrfSign(req: {
    key_type?: string;
    public_key?: Buffer;
    transcript_data?: WireVrfData | null;
    extra?: WireVrfData | null;
  }): Promise<
    HandlerResult<{ signature: { output: Buffer; challenge: Buffer; proof: Buffer } | null; error: number }>
  > {
    try {
      // the transcripts are parsed only once the key is found (PAIR_NOT_FOUND comes first)
      const s = await this.keyCalls.vrfSign(req.key_type, u8(req.public_key), () => ({
        spec: transcriptSpec(req.transcript_data, "transcript_data"),
        extra: req.extra === undefined || req.extra === null ? null : transcriptSpec(req.extra, "extra"),
      }));
      if (s === null) return { reply: { signature: null, error: RemoteKeystoreError.PairNotFound }, errors: [] };
      return {
        reply: { signature: { output: buf(s.preOutput), challenge: buf(s.challenge), proof: buf(s.proof) }, error: 0 },
        errors: [],
      };
    } catch (e) {
      return { reply: { signature: null, error: errorEnumOf(e) }, errors: [e] };
    }
  }

  async signWith(req: WireSignRequest): Promise<HandlerResult<{ signature: WireSignature }>> {
    // a request without public_key is refused like an empty one (typed), not signed for no key
    const [r] = await this.signMany(req, [req.public_key ?? EMPTY]);
    return { reply: { signature: r!.signature }, errors: r!.error === undefined ? [] : [r!.error] };
  }

  /** Signs with the first listed key this keystore holds; PAIR_NOT_FOUND when it holds none. */
  async signWithAny(req: WireSignRequest): Promise<HandlerResult<{ signature: WireSignature }>> {
    let held: Buffer | undefined;
    try {
      const keyType = parseKeyType(req.key_type);
      const crypto = parseCryptoType(req.crypto_type);
      held = (req.public_keys ?? []).find(
        (k) => k.length === PUBLIC_KEY_LENGTH[crypto] && this.m.keystore.has(keyType, crypto, u8(k)),
      );
    } catch {
      // fall through: signMany reports the typed error
    }
    const [r] = await this.signMany(req, [held ?? req.public_keys?.[0] ?? EMPTY]);
    return { reply: { signature: r!.signature }, errors: r!.error === undefined ? [] : [r!.error] };
  }

  /** One signature (or error) per listed key, in order; the keys are decided together (one batch). */
  async signWithAll(req: WireSignRequest): Promise<HandlerResult<{ signatures: WireSignature[] }>> {
    const rs = await this.signMany(req, req.public_keys ?? []);
    return {
      reply: { signatures: rs.map((r) => r.signature) },
      errors: rs.flatMap((r) => (r.error === undefined ? [] : [r.error])),
    };
  }

  /** ecdsa_sign_prehashed: BEEFY votes (key type beef) need payload.beefy_commitment, as BABE seals need theirs. */
  async ecdsaSignPrehashed(req: {
    key_type?: string;
    public_key?: Buffer;
    prehash?: Buffer;
    payload?: WirePayload | null;
  }): Promise<HandlerResult<{ signature: WireSignature }>> {
    const signReq = {
      key_type: req.key_type,
      crypto_type: "ecdsa",
      message: req.prehash ?? EMPTY,
      payload: req.payload ?? null,
    };
    const [r] = await this.signMany(signReq, [req.public_key ?? EMPTY], true);
    return { reply: { signature: r!.signature }, errors: r!.error === undefined ? [] : [r!.error] };
  }

  hasKeys(req: { keys?: { key_type?: string; public_key?: Buffer }[] }): HandlerResult<{ has_all: boolean }> {
    const all = (req.keys ?? []).every((k) => {
      const keyType = parseKeyType(k.key_type);
      return this.m.keystore.publicKeys(keyType).some((p) => Buffer.compare(p, k.public_key ?? EMPTY) === 0);
    });
    return { reply: { has_all: all }, errors: [] };
  }

  keys(req: { key_type?: string }): HandlerResult<{ public_keys: Buffer[]; error: number }> {
    const keyType = parseKeyType(req.key_type);
    return { reply: { public_keys: this.m.keystore.publicKeys(keyType).map(buf), error: 0 }, errors: [] };
  }

  async insert(req: {
    key_type?: string;
    suri?: string;
    public_key?: Buffer;
  }): Promise<HandlerResult<{ error: number }>> {
    try {
      await this.keyCalls.insert(req.key_type, req.suri ?? "", u8(req.public_key));
      return { reply: { error: 0 }, errors: [] };
    } catch (e) {
      return { reply: { error: errorEnumOf(e) }, errors: [e] };
    }
  }

  private async signMany(
    req: WireSignRequest,
    keys: readonly Buffer[],
    prehashed = false,
  ): Promise<{ signature: WireSignature; error?: unknown }[]> {
    const message = req.message ?? EMPTY;
    return Promise.all(
      keys.map(async (publicKey) => {
        const crypto = req.crypto_type ?? "";
        const fail = (e: unknown, error = errorEnumOf(e)): { signature: WireSignature; error?: unknown } => ({
          signature: { signature: EMPTY, crypto_type: crypto, public_key: publicKey, error },
          ...(e === undefined ? {} : { error: e }),
        });
        try {
          const sig = await this.signOne(req.key_type, req.crypto_type, publicKey, message, req.payload, prehashed);
          if (sig === null) return fail(undefined, RemoteKeystoreError.PairNotFound);
          return { signature: { signature: buf(sig), crypto_type: crypto, public_key: publicKey, error: 0 } };
        } catch (e) {
          return fail(e);
        }
      }),
    );
  }

  /** The wire form into the signing service's input; null: the keystore holds no such key. */
  private signOne(
    keyType: string | undefined,
    crypto: string | undefined,
    publicKey: Buffer,
    message: Buffer,
    payload: WirePayload | null | undefined,
    prehashed: boolean,
  ): Promise<Uint8Array | null> {
    return this.signer.sign({
      keyType,
      crypto,
      publicKey: u8(publicKey),
      message: u8(message),
      payload: () => payloadView(payload),
      prehashed,
    });
  }
}

/** VrfTranscriptData -> Merlin transcript items; values without item labels are only understood for BABE. */
function transcriptSpec(d: WireVrfData | null | undefined, field: string): VrfTranscriptSpec {
  const bad = (detail: string): SubstrateError =>
    new SubstrateError({ code: SubstrateErrorCode.Malformed, what: field }, `malformed ${field}: ${detail}`);
  if (d === null || d === undefined || d.label === undefined || d.label.length === 0)
    throw bad("a transcript label is required");
  const values = d.values ?? [];
  const unlabelled = values.every((v) => v.label === undefined || v.label.length === 0);
  const defaults = unlabelled && d.label === "BABE" && values.length === 3 ? BABE_VRF_LABELS : null;
  const items = values.map((v, i) => {
    const label = v.label !== undefined && v.label.length > 0 ? v.label : defaults?.[i];
    if (label === undefined) throw bad("every value needs its item label (VrfTranscriptValue.label)");
    if (v.value === "bytes_value") return { label, value: u8(v.bytes_value) };
    if (v.value === "uint64_value") {
      const n = canonicalUint(v.uint64_value ?? "", 64);
      if (n === null) throw bad("uint64_value must be a decimal u64");
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, n, true);
      return { label, value: b };
    }
    throw bad("a value needs bytes_value or uint64_value");
  });
  return { label: d.label, items };
}
