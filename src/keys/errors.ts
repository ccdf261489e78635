import { AppError } from "../util/errors.js";

export enum KeyErrorCode {
  KeystoreInvalid = "ERR_KEYSTORE_INVALID",
  KeystorePassword = "ERR_KEYSTORE_PASSWORD",
  KeystorePasswordMissing = "ERR_KEYSTORE_PASSWORD_MISSING",
  KeystorePubkeyMismatch = "ERR_KEYSTORE_PUBKEY_MISMATCH",
  /** The keystore asks for more KDF work than the configured limit (a memory and CPU bomb otherwise). */
  KeystoreKdfLimit = "ERR_KEYSTORE_KDF_LIMIT",
  KeyUnknown = "ERR_KEY_UNKNOWN",
  KeySigning = "ERR_KEY_SIGNING",
}

export type KeyErrorType =
  | { code: KeyErrorCode.KeystoreInvalid; file?: string; field?: string }
  | { code: KeyErrorCode.KeystorePassword; file?: string }
  | { code: KeyErrorCode.KeystorePasswordMissing; file: string }
  | { code: KeyErrorCode.KeystorePubkeyMismatch; file?: string }
  | { code: KeyErrorCode.KeystoreKdfLimit; file?: string; field: string; value: number; max: number }
  | { code: KeyErrorCode.KeyUnknown; pubkey: string }
  | { code: KeyErrorCode.KeySigning };

export class KeyError extends AppError<KeyErrorType> {}
