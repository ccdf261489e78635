/** One keystore decrypted on the calling thread, with a typed error as data (it crosses a thread boundary). */
import { blsPublicKey } from "./blsPool.js";
import { decryptKeystoreSync, type KdfLimits, parseKeystore } from "./eip2335.js";
import { KeyError, KeyErrorCode, type KeyErrorType } from "./errors.js";

export interface DecryptRequest {
  json: string;
  password: string;
  limits: KdfLimits;
}

export type DecryptReply =
  | { ok: true; secret: Uint8Array; pubkey: Uint8Array }
  | { ok: false; error: KeyErrorType; message: string };

export function decryptOne(r: DecryptRequest): DecryptReply {
  try {
    let doc: unknown;
    try {
      doc = JSON.parse(r.json);
    } catch {
      throw new KeyError({ code: KeyErrorCode.KeystoreInvalid, field: "document" }, "keystore is not JSON");
    }
    const ks = parseKeystore(doc);
    const secret = decryptKeystoreSync(ks, r.password, undefined, r.limits);
    const pubkey = blsPublicKey(secret);
    if (ks.pubkey !== undefined && ks.pubkey !== "" && Buffer.from(pubkey).toString("hex") !== ks.pubkey.toLowerCase())
      throw new KeyError({ code: KeyErrorCode.KeystorePubkeyMismatch }, "keystore pubkey does not match the secret");
    return { ok: true, secret, pubkey };
  } catch (e) {
    if (e instanceof KeyError) return { ok: false, error: e.type, message: e.message };
    return {
      ok: false,
      error: { code: KeyErrorCode.KeystoreInvalid },
      message: e instanceof Error ? e.message : String(e),
    };
  }
}
