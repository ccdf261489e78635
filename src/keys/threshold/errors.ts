import { AppError } from "../../util/errors.js";

export enum ThresholdErrorCode {
  /** T <= N/2: two conflicting messages could each gather T shares. */
  ThresholdTooLow = "ERR_THRESHOLD_TOO_LOW",
  /** N above the largest share index the cluster file and the wire carry (255). */
  TooManyShares = "ERR_THRESHOLD_TOO_MANY_SHARES",
  /** A share does not match the public commitments (Feldman check). */
  ShareInvalid = "ERR_THRESHOLD_SHARE_INVALID",
  /** Malformed scalar, point, index set or commitment list. */
  BadInput = "ERR_THRESHOLD_BAD_INPUT",
  /** The combined signature does not verify against the group public key. */
  CombineFailed = "ERR_THRESHOLD_COMBINE_FAILED",
  /** Fewer than T valid partial signatures before the deadline: nothing was released. */
  NotEnoughPartials = "ERR_THRESHOLD_NOT_ENOUGH_PARTIALS",
  /** The cluster file is missing, unreadable or inconsistent. */
  ClusterFileInvalid = "ERR_CLUSTER_FILE_INVALID",
  /** A DKG participant sent a share or commitments that fail verification (names the peer). */
  DkgComplaint = "ERR_DKG_COMPLAINT",
  /** The DKG run could not complete (a peer unreachable, transcripts differ, a deadline passed). */
  DkgFailed = "ERR_DKG_FAILED",
}

export type ThresholdErrorType =
  | { code: ThresholdErrorCode.ThresholdTooLow; threshold: number; shares: number }
  | { code: ThresholdErrorCode.TooManyShares; shares: number; max: number }
  | { code: ThresholdErrorCode.ShareInvalid; index: number; groupPublicKey?: string }
  | { code: ThresholdErrorCode.BadInput; field: string }
  | { code: ThresholdErrorCode.CombineFailed; groupPublicKey: string; badPeers: number[] }
  | {
      code: ThresholdErrorCode.NotEnoughPartials;
      groupPublicKey: string;
      threshold: number;
      got: number;
      peers: Record<string, string>;
    }
  | { code: ThresholdErrorCode.ClusterFileInvalid; file: string; path?: string }
  | { code: ThresholdErrorCode.DkgComplaint; peer: number; reason: string }
  | { code: ThresholdErrorCode.DkgFailed; peer?: number; reason: string };

export class ThresholdError extends AppError<ThresholdErrorType> {}
