import { AppError } from "../../util/errors.js";

/** Errors of the PKCS#11 key source. They name the token and key, never the PIN. */
export enum HsmErrorCode {
  /** The module (shared library) cannot be loaded or initialised. */
  Module = "ERR_HSM_MODULE",
  /** No initialised token with this label (pulled out, or the module's config names another store). */
  TokenNotFound = "ERR_HSM_TOKEN_NOT_FOUND",
  /** Two tokens carry the label: which one signs would be a guess. */
  TokenAmbiguous = "ERR_HSM_TOKEN_AMBIGUOUS",
  /** The PIN file is missing, empty or unreadable. */
  PinFile = "ERR_HSM_PIN_FILE",
  /** The token refused the PIN (not retried with the same PIN: tokens lock after a few tries). */
  Login = "ERR_HSM_LOGIN",
  KeyNotFound = "ERR_HSM_KEY_NOT_FOUND",
  KeyAmbiguous = "ERR_HSM_KEY_AMBIGUOUS",
  /** The key is not an Ed25519 signing key, or it may leave the token (extractable, not sensitive). */
  KeyUnsuitable = "ERR_HSM_KEY_UNSUITABLE",
  /** After a reconnect the label names another key than the one the signer started with. */
  KeyChanged = "ERR_HSM_KEY_CHANGED",
  /** A key with this label exists already (generate / import never overwrite). */
  LabelTaken = "ERR_HSM_LABEL_TAKEN",
  /** The token is down (failed, removed, reconnecting): nothing is signed until it is back. */
  Unavailable = "ERR_HSM_UNAVAILABLE",
  /** The token failed while signing; the key source goes down and reconnects. */
  Sign = "ERR_HSM_SIGN",
  /** The token did not answer in time; treated as a failure. */
  Timeout = "ERR_HSM_TIMEOUT",
  /** A signature made by the token does not verify under the key's public key. */
  BadSignature = "ERR_HSM_BAD_SIGNATURE",
  /** The key to import is malformed. */
  ImportSource = "ERR_HSM_IMPORT_SOURCE",
}

export interface HsmErrorType {
  code: HsmErrorCode;
  /** The module path, token label and key (label or id) concerned, where known. */
  module?: string;
  token?: string;
  key?: string;
  /** The PKCS#11 return value name (CKR_…) when the module gave one. */
  ckr?: string;
}

export class HsmError extends AppError<HsmErrorType> {}

/** The CKR_… name of a pkcs11js error, if it carries one. */
export function ckrOf(e: unknown): string | undefined {
  const m = /\b(CKR_[A-Z_]+)\b/.exec(e instanceof Error ? e.message : String(e));
  return m?.[1];
}
