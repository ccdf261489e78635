import { AppError } from "../../util/errors.js";
import { redactUrl } from "../../util/redact.js";

/** Why a beacon node gave no usable answer. Every one of them means "no progress" for the doppelganger guard. */
export enum BeaconErrorCode {
  /** Connection refused, reset, DNS: the node is not reachable. */
  Unreachable = "ERR_BEACON_UNREACHABLE",
  Timeout = "ERR_BEACON_TIMEOUT",
  /** An HTTP status the call cannot use (5xx, 503 syncing, an unexpected 4xx). */
  Status = "ERR_BEACON_STATUS",
  /** The body is not what the beacon API specifies. */
  BadResponse = "ERR_BEACON_BAD_RESPONSE",
  /** The node follows another chain (genesis validators root differs from ours). */
  WrongNetwork = "ERR_BEACON_WRONG_NETWORK",
  Syncing = "ERR_BEACON_SYNCING",
}

export type BeaconErrorType =
  | { code: BeaconErrorCode.Unreachable; node: string; cause: string }
  | { code: BeaconErrorCode.Timeout; node: string; timeoutMs: number }
  | { code: BeaconErrorCode.Status; node: string; status: number; path: string }
  | { code: BeaconErrorCode.BadResponse; node: string; path: string; field: string }
  | { code: BeaconErrorCode.WrongNetwork; node: string; expected: string; found: string }
  | { code: BeaconErrorCode.Syncing; node: string; distance: bigint };

/** `node` is redacted here, once for every error: a beacon URL may carry credentials or an API key. */
export class BeaconError extends AppError<BeaconErrorType> {
  constructor(type: BeaconErrorType, message?: string) {
    super({ ...type, node: redactUrl(type.node) }, message);
  }
}

/** Failures of every configured node, in the order they were tried. */
export class BeaconUnavailableError extends AppError<{ code: "ERR_BEACON_ALL_FAILED"; failures: BeaconErrorType[] }> {}

/** One line naming each node and what went wrong with it (alerts, logs). */
export function describeBeaconFailure(e: unknown): string {
  if (e instanceof BeaconUnavailableError) return e.type.failures.map(describeOne).join("; ");
  if (e instanceof BeaconError) return describeOne(e.type);
  return e instanceof Error ? e.message : String(e);
}

function describeOne(t: BeaconErrorType): string {
  switch (t.code) {
    case BeaconErrorCode.Unreachable:
      return `${t.node} unreachable (${t.cause})`;
    case BeaconErrorCode.Timeout:
      return `${t.node} did not answer within ${t.timeoutMs} ms`;
    case BeaconErrorCode.Status:
      return `${t.node} answered HTTP ${t.status} to ${t.path}`;
    case BeaconErrorCode.BadResponse:
      return `${t.node} sent a malformed ${t.path} answer (${t.field})`;
    case BeaconErrorCode.WrongNetwork:
      return `${t.node} follows another network (genesis validators root ${t.found}, expected ${t.expected})`;
    case BeaconErrorCode.Syncing:
      return `${t.node} is syncing (${t.distance} slots behind)`;
  }
}
