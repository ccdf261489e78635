import { randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import { ed25519Verify } from "../../util/curve25519.js";
import { ckrOf, HsmError, HsmErrorCode } from "./errors.js";
import { describeSelector, type KeySelector } from "./pkcs11Config.js";

// PKCS#11 3.0 values (pkcs11js names only the 2.40 ones).
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** CKA_EC_PARAMS of Ed25519: the OID 1.3.101.112, or the curve name some modules use instead. */
const ED25519_OID = Buffer.from("06032b6570", "hex");
const ED25519_NAME = Buffer.from("130c656477617264733235353139", "hex");
const SELF_TEST_PREFIX = Buffer.from("slashguard pkcs11 self-test\0");

type Handle = Buffer;
type Lib = InstanceType<typeof pkcs11js.PKCS11>;

export interface TokenKeyInfo {
  label: string;
  id: Uint8Array;
  publicKey: Uint8Array;
  sensitive: boolean;
  extractable: boolean;
  /** Generated in the token (never outside it) rather than imported. */
  neverExtractable: boolean;
}

export interface FoundKey {
  handle: Handle;
  info: TokenKeyInfo;
}

/** A loaded and initialised PKCS#11 module (synchronous: call it from a worker thread or a CLI). */
export class Pkcs11Library {
  private constructor(
    readonly modulePath: string,
    private readonly lib: Lib,
  ) {}

  static load(modulePath: string): Pkcs11Library {
    const lib = new pkcs11js.PKCS11();
    try {
      lib.load(modulePath);
    } catch (e) {
      throw hsmError(HsmErrorCode.Module, e, { module: modulePath }, `cannot load PKCS#11 module ${modulePath}`);
    }
    const init = (): void => lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    try {
      try {
        init();
      } catch (e) {
        // Left initialised by a worker that was stopped while stuck in a call: start afresh.
        if (ckrOf(e) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") throw e;
        lib.C_Finalize();
        init();
      }
    } catch (e) {
      throw hsmError(HsmErrorCode.Module, e, { module: modulePath }, `cannot initialise PKCS#11 module ${modulePath}`);
    }
    return new Pkcs11Library(modulePath, lib);
  }

  /** Opens a session on the token with this label and logs the user in. */
  open(tokenLabel: string, pin: string, readWrite = false): TokenSession {
    const where = { module: this.modulePath, token: tokenLabel };
    let slot: Handle;
    let session: Handle;
    try {
      const slots = this.lib.C_GetSlotList(true).filter((s) => {
        const t = this.lib.C_GetTokenInfo(s);
        return t.label.trimEnd() === tokenLabel && (t.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0;
      });
      if (slots.length === 0)
        throw new HsmError({ code: HsmErrorCode.TokenNotFound, ...where }, `no initialised token "${tokenLabel}"`);
      if (slots.length > 1)
        throw new HsmError({ code: HsmErrorCode.TokenAmbiguous, ...where }, `${slots.length} tokens "${tokenLabel}"`);
      slot = slots[0]!;
      session = this.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | (readWrite ? pkcs11js.CKF_RW_SESSION : 0));
    } catch (e) {
      if (e instanceof HsmError) throw e;
      throw hsmError(HsmErrorCode.TokenNotFound, e, where, `cannot open a session on token "${tokenLabel}"`);
    }
    try {
      this.lib.C_Login(session, pkcs11js.CKU_USER, pin);
    } catch (e) {
      if (ckrOf(e) !== "CKR_USER_ALREADY_LOGGED_IN") {
        closeQuietly(() => this.lib.C_CloseSession(session));
        throw hsmError(HsmErrorCode.Login, e, where, `token "${tokenLabel}" refused the PIN`);
      }
    }
    return new TokenSession(this.lib, session, where);
  }

  /** C_Finalize and unload; errors are ignored (the module may be the thing that failed). */
  finalize(): void {
    closeQuietly(() => this.lib.C_Finalize());
    closeQuietly(() => this.lib.close());
  }
}

/** One logged-in session. PKCS#11 sessions take one operation at a time: the caller serialises. */
export class TokenSession {
  constructor(
    private readonly lib: Lib,
    private readonly session: Handle,
    private readonly where: { module: string; token: string },
  ) {}

  /** Every Ed25519 private key of the token with its public key (keys without one are left out). */
  list(): TokenKeyInfo[] {
    return this.call(HsmErrorCode.KeyNotFound, "cannot list keys", () =>
      this.findObjects([{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }])
        .filter((h) => this.isEd25519(h))
        .flatMap((h) => {
          const info = this.infoOf(h);
          return info === null ? [] : [info];
        }),
    );
  }

  /**
   * The Ed25519 signing key named by the selector, refused unless it can never leave the token
   * (sensitive, not extractable), and checked by a signature that must verify under its public key.
   */
  findKey(sel: KeySelector): FoundKey {
    const key = describeSelector(sel);
    const where = { ...this.where, key };
    const handles = this.call(HsmErrorCode.KeyNotFound, `cannot look up key ${key}`, () =>
      this.findObjects([{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, selectorAttr(sel)]),
    );
    if (handles.length === 0) throw new HsmError({ code: HsmErrorCode.KeyNotFound, ...where }, `no private key ${key}`);
    if (handles.length > 1)
      throw new HsmError({ code: HsmErrorCode.KeyAmbiguous, ...where }, `${handles.length} private keys ${key}`);
    const handle = handles[0]!;
    const unsuitable = (why: string): HsmError =>
      new HsmError({ code: HsmErrorCode.KeyUnsuitable, ...where }, `key ${key} ${why}`);
    if (!this.isEd25519(handle)) throw unsuitable("is not an Ed25519 key");
    const [sign, sensitive, extractable] = this.bools(handle, [
      pkcs11js.CKA_SIGN,
      pkcs11js.CKA_SENSITIVE,
      pkcs11js.CKA_EXTRACTABLE,
    ]);
    if (!sign) throw unsuitable("may not sign (CKA_SIGN false)");
    if (!sensitive || extractable)
      throw unsuitable("could leave the token (CKA_SENSITIVE false or CKA_EXTRACTABLE true)");
    const info = this.infoOf(handle);
    if (info === null)
      throw new HsmError(
        { code: HsmErrorCode.KeyNotFound, ...where },
        `no public key object beside private key ${key}`,
      );
    this.selfTest(handle, info.publicKey, where);
    return { handle, info };
  }

  /** CKM_EDDSA (pure Ed25519) inside the token. */
  sign(handle: Handle, message: Uint8Array): Uint8Array {
    return this.call(HsmErrorCode.Sign, "signing failed", () => {
      this.lib.C_SignInit(this.session, { mechanism: CKM_EDDSA }, handle);
      const sig = this.lib.C_Sign(this.session, Buffer.from(message), Buffer.alloc(64));
      if (sig.length !== 64) throw new Error(`the module returned a ${sig.length}-byte Ed25519 signature`);
      return new Uint8Array(sig);
    });
  }

  /** A new Ed25519 key pair made inside the token: sensitive, never extractable, token objects. */
  generate(label: string, id: Uint8Array = randomBytes(16)): TokenKeyInfo {
    this.checkLabelFree(label);
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
    ];
    const pair = this.call(HsmErrorCode.Sign, "key generation failed", () =>
      this.lib.C_GenerateKeyPair(
        this.session,
        { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
        [...common, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_OID }],
        [...common, ...PRIVATE_KEY_FLAGS],
      ),
    );
    return this.infoOf(pair.privateKey)!;
  }

  /**
   * Imports a raw Ed25519 seed as a sensitive, non-extractable key (and its public key). The token
   * must sign with it under `publicKey`, or both objects are destroyed again.
   */
  importSeed(label: string, seed: Uint8Array, publicKey: Uint8Array, id: Uint8Array = randomBytes(16)): TokenKeyInfo {
    this.checkLabelFree(label);
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
      { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_OID },
    ];
    const value = Buffer.from(seed);
    const created: Handle[] = [];
    try {
      this.call(HsmErrorCode.Sign, "key import failed", () => {
        created.push(
          this.lib.C_CreateObject(this.session, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
            ...common,
            { type: pkcs11js.CKA_VERIFY, value: true },
            { type: pkcs11js.CKA_EC_POINT, value: Buffer.concat([Buffer.from([0x04, 0x20]), publicKey]) },
          ]),
        );
        created.push(
          this.lib.C_CreateObject(this.session, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
            ...common,
            ...PRIVATE_KEY_FLAGS,
            { type: pkcs11js.CKA_VALUE, value },
          ]),
        );
      });
      this.selfTest(created[1]!, publicKey, { ...this.where, key: `label "${label}"` });
    } catch (e) {
      for (const h of created) closeQuietly(() => this.lib.C_DestroyObject(this.session, h));
      throw e;
    } finally {
      value.fill(0);
    }
    return this.infoOf(created[1]!)!;
  }

  close(): void {
    closeQuietly(() => this.lib.C_CloseSession(this.session));
  }

  private checkLabelFree(label: string): void {
    const taken = this.call(HsmErrorCode.KeyNotFound, "cannot look up labels", () =>
      this.findObjects([{ type: pkcs11js.CKA_LABEL, value: label }]),
    );
    if (taken.length > 0)
      throw new HsmError(
        { code: HsmErrorCode.LabelTaken, ...this.where, key: `label "${label}"` },
        `the token already holds an object labelled "${label}"`,
      );
  }

  /** Signs a message that is neither a CometBFT nor a Substrate consensus message, and verifies it. */
  private selfTest(handle: Handle, publicKey: Uint8Array, where: { module: string; token: string; key: string }): void {
    const message = Buffer.concat([SELF_TEST_PREFIX, randomBytes(32)]);
    const signature = this.sign(handle, message);
    if (!ed25519Verify(publicKey, message, signature))
      throw new HsmError(
        { code: HsmErrorCode.BadSignature, ...where },
        "the token's signature does not verify under the public key stored beside the private key",
      );
  }

  private isEd25519(h: Handle): boolean {
    const [type, params] = this.attrs(h, [pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_EC_PARAMS]);
    return readUlong(type!) === CKK_EC_EDWARDS && (params!.equals(ED25519_OID) || params!.equals(ED25519_NAME));
  }

  /** Label, id, flags and public key (from the public key object with the same id, else label). */
  private infoOf(priv: Handle): TokenKeyInfo | null {
    const [label, id] = this.attrs(priv, [pkcs11js.CKA_LABEL, pkcs11js.CKA_ID]);
    const [sensitive, extractable, neverExtractable] = this.bools(priv, [
      pkcs11js.CKA_SENSITIVE,
      pkcs11js.CKA_EXTRACTABLE,
      pkcs11js.CKA_NEVER_EXTRACTABLE,
    ]);
    const match = id!.length > 0 ? { type: pkcs11js.CKA_ID, value: id! } : { type: pkcs11js.CKA_LABEL, value: label! };
    const pubs = this.findObjects([{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, match]);
    if (pubs.length !== 1) return null;
    const publicKey = parseEcPoint(this.attrs(pubs[0]!, [pkcs11js.CKA_EC_POINT])[0]!);
    if (publicKey === null) return null;
    return {
      label: label!.toString("utf8"),
      id: new Uint8Array(id!),
      publicKey,
      sensitive: sensitive!,
      extractable: extractable!,
      neverExtractable: neverExtractable!,
    };
  }

  private findObjects(template: { type: number; value?: number | boolean | string | Buffer }[]): Handle[] {
    this.lib.C_FindObjectsInit(this.session, template);
    try {
      const out: Handle[] = [];
      for (;;) {
        const batch = this.lib.C_FindObjects(this.session, 64);
        if (batch.length === 0) return out;
        out.push(...batch);
      }
    } finally {
      this.lib.C_FindObjectsFinal(this.session);
    }
  }

  private attrs(h: Handle, types: number[]): Buffer[] {
    return this.lib
      .C_GetAttributeValue(
        this.session,
        h,
        types.map((type) => ({ type })),
      )
      .map((a) => a.value);
  }

  private bools(h: Handle, types: number[]): boolean[] {
    return this.attrs(h, types).map((v) => v.length > 0 && v[0] !== 0);
  }

  private call<T>(code: HsmErrorCode, what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof HsmError) throw e;
      throw hsmError(code, e, this.where, what);
    }
  }
}

const PRIVATE_KEY_FLAGS = [
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_SIGN, value: true },
];

function selectorAttr(s: KeySelector): { type: number; value: string | Buffer } {
  return "label" in s
    ? { type: pkcs11js.CKA_LABEL, value: s.label }
    : { type: pkcs11js.CKA_ID, value: Buffer.from(s.id) };
}

/** CKA_EC_POINT of an Ed25519 key: a DER OCTET STRING of 32 bytes (PKCS#11 3.0), or the raw 32 bytes. */
function parseEcPoint(v: Buffer): Uint8Array | null {
  if (v.length === 34 && v[0] === 0x04 && v[1] === 0x20) return new Uint8Array(v.subarray(2));
  if (v.length === 32) return new Uint8Array(v);
  return null;
}

/** A CK_ULONG attribute in host byte order (little-endian on every platform Node supports here). */
function readUlong(v: Buffer): number {
  if (v.length === 8) return Number(v.readBigUInt64LE());
  if (v.length === 4) return v.readUInt32LE();
  return -1;
}

function hsmError(
  code: HsmErrorCode,
  e: unknown,
  where: { module: string; token?: string; key?: string },
  what: string,
): HsmError {
  const ckr = ckrOf(e);
  return new HsmError(
    ckr === undefined ? { code, ...where } : { code, ...where, ckr },
    `${what}${ckr === undefined ? `: ${e instanceof Error ? e.message : String(e)}` : ` (${ckr})`}`,
  );
}

function closeQuietly(f: () => void): void {
  try {
    f();
  } catch {
    // already closed, or the module is gone: nothing left to release
  }
}
