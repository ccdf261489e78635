import { AppError } from "../../util/errors.js";

/** Errors of the Substrate key sources. Codes share the ERR_SUBSTRATE_ domain of the chain rules. */
export enum KeyErrorCode {
  BadSuri = "ERR_SUBSTRATE_SURI",
  Keystore = "ERR_SUBSTRATE_KEYSTORE",
  BadPrehash = "ERR_SUBSTRATE_MALFORMED",
  /** One public key, one key type: the key is already filed under another type. */
  KeyTypeConflict = "ERR_SUBSTRATE_KEY_TYPE_CONFLICT",
}

export class KeyError extends AppError<{ code: KeyErrorCode; detail: string }> {
  constructor(code: KeyErrorCode, detail: string) {
    super({ code, detail }, `${code}: ${detail}`);
  }
}

/** The three signature schemes of sp_core (the same union as chains/substrate's CryptoType). */
export type KeyCrypto = "sr25519" | "ed25519" | "ecdsa";
