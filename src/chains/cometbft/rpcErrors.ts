import { AppError } from "../../util/errors.js";

export enum CometRpcErrorCode {
  /** The node answered with a JSON-RPC error object (e.g. a height it does not have yet). */
  NodeError = "ERR_COMETBFT_RPC_ERROR",
  /** The answer is not what the RPC spec says (wrong type, missing field, bad number). */
  Invalid = "ERR_COMETBFT_RPC_INVALID",
}

export type CometRpcErrorType =
  | { code: CometRpcErrorCode.NodeError; rpcCode: number; detail: string }
  | { code: CometRpcErrorCode.Invalid; field: string };

export class CometRpcError extends AppError<CometRpcErrorType> {}

export function invalid(field: string, what: string): CometRpcError {
  return new CometRpcError({ code: CometRpcErrorCode.Invalid, field }, `CometBFT RPC answer: ${field} ${what}`);
}
