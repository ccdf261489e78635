import { AppError } from "../../util/errors.js";

/** Codes of malformed input on the privval and SecretConnection wire (the session answers or drops, never signs). */
export enum CometWireErrorCode {
  /** Protobuf that does not decode (truncated, bad varint, wrong wire type, group fields). */
  Malformed = "ERR_COMETBFT_MALFORMED",
  /** A well-formed request whose content CometBFT itself would reject (type, height, hash length, extension). */
  InvalidRequest = "ERR_COMETBFT_INVALID_REQUEST",
  /** A length prefix above the configured maximum: the message is not read. */
  TooLarge = "ERR_COMETBFT_MESSAGE_TOO_LARGE",
  ChainIdMismatch = "ERR_COMETBFT_CHAIN_ID_MISMATCH",
  UnknownMessage = "ERR_COMETBFT_UNKNOWN_MESSAGE",
}

export class CometWireError extends AppError<{ code: CometWireErrorCode; field?: string }> {
  constructor(code: CometWireErrorCode, message: string, field?: string) {
    super(field === undefined ? { code } : { code, field }, message);
  }
}

/** Codes of the SecretConnection handshake and frame layer: every one of them closes the connection. */
export enum SecretConnectionErrorCode {
  LowOrderPoint = "ERR_SECRET_CONNECTION_LOW_ORDER_POINT",
  BadEphemeralKey = "ERR_SECRET_CONNECTION_BAD_EPHEMERAL_KEY",
  BadAuthSignature = "ERR_SECRET_CONNECTION_BAD_AUTH_SIGNATURE",
  PeerIdMismatch = "ERR_SECRET_CONNECTION_PEER_ID_MISMATCH",
  DecryptFailed = "ERR_SECRET_CONNECTION_DECRYPT_FAILED",
  FrameTooLarge = "ERR_SECRET_CONNECTION_FRAME_TOO_LARGE",
  NonceExhausted = "ERR_SECRET_CONNECTION_NONCE_EXHAUSTED",
  Closed = "ERR_SECRET_CONNECTION_CLOSED",
}

export class SecretConnectionError extends AppError<{ code: SecretConnectionErrorCode }> {
  constructor(code: SecretConnectionErrorCode, message: string) {
    super({ code }, message);
  }
}

/** Refusals of the height/round/step rule (privval/file.go CheckHRS and signVote/signProposal). */
export enum CometSignErrorCode {
  HeightRegression = "ERR_COMETBFT_HEIGHT_REGRESSION",
  RoundRegression = "ERR_COMETBFT_ROUND_REGRESSION",
  StepRegression = "ERR_COMETBFT_STEP_REGRESSION",
  /** Same height/round/step as the last signature, different sign bytes (not only the timestamp). */
  ConflictingData = "ERR_COMETBFT_CONFLICTING_DATA",
  /** Same height/round/step as an imported state that carries no sign bytes: nothing to compare, so no. */
  NoSignBytes = "ERR_COMETBFT_NO_SIGN_BYTES",
  KeyUnknown = "ERR_COMETBFT_KEY_UNKNOWN",
  /**
   * The store holds a lower height/round/step for the key than this process already signed: records were
   * lost (database failover, restore). `previous` is what the store holds, `released` what was signed.
   */
  StoreBehind = "ERR_COMETBFT_STORE_BEHIND",
}

export interface HrsView {
  height: bigint;
  round: number;
  step: number;
}

export type CometSignErrorType = {
  code: CometSignErrorCode;
  chainId?: string;
  pubkey?: string;
  incoming: HrsView;
  previous: HrsView | null;
  /** StoreBehind: the highest position this process released for the key. */
  released?: HrsView;
};

export class CometSignError extends AppError<CometSignErrorType> {}
