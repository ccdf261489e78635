import { AppError } from "../../../util/errors.js";

export enum InterchangeErrorCode {
  /** Not valid JSON, or JSON that does not follow the EIP-3076 schema (the path says where). */
  Malformed = "ERR_INTERCHANGE_MALFORMED",
  /** The file ends before the document is complete. */
  Truncated = "ERR_INTERCHANGE_TRUNCATED",
  Version = "ERR_INTERCHANGE_VERSION",
  GenesisMismatch = "ERR_INTERCHANGE_GENESIS_MISMATCH",
  TooLarge = "ERR_INTERCHANGE_LIMIT",
}

export type InterchangeErrorType =
  | { code: InterchangeErrorCode.Malformed; path: string }
  | { code: InterchangeErrorCode.Truncated; offset: number }
  | { code: InterchangeErrorCode.Version; version: string }
  | { code: InterchangeErrorCode.GenesisMismatch; expected: string; given: string }
  | { code: InterchangeErrorCode.TooLarge; path: string };

export class InterchangeError extends AppError<InterchangeErrorType> {}
