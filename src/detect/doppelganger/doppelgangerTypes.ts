import type { DoppelgangerState, DoppelgangerStatus } from "../../chains/ethereum/index.js";
import { AppError } from "../../util/errors.js";

export enum DoppelgangerErrorCode {
  /** The key has not yet been seen silent for the configured epochs (or its check cannot run). */
  Unverified = "ERR_DOPPELGANGER_UNVERIFIED",
  /** The key was live on the network while we were not signing with it; refused until an operator clears it. */
  Detected = "ERR_DOPPELGANGER_DETECTED",
  /** Clear asked for a key whose status is not doppelganger_detected. */
  NotDetected = "ERR_DOPPELGANGER_NOT_DETECTED",
  NotFound = "ERR_NOT_FOUND",
}

export type DoppelgangerErrorType =
  | { code: DoppelgangerErrorCode.Unverified; pubkey: string; detail: string }
  | { code: DoppelgangerErrorCode.Detected; pubkey: string; epoch: bigint | null; detail: string }
  | { code: DoppelgangerErrorCode.NotDetected; pubkey: string; status: DoppelgangerStatus }
  | { code: DoppelgangerErrorCode.NotFound; pubkey: string };

export class DoppelgangerError extends AppError<DoppelgangerErrorType> {}

/** A key the guard holds, as the status API shows it. */
export interface DoppelgangerKeyStatus {
  pubkey: string;
  index: number | null;
  status: DoppelgangerStatus;
  checkedEpochs: number;
  remainingEpochs: number;
  /** Epoch the check started (null while the chain's time is unknown, or before genesis). */
  sinceEpoch: bigint | null;
  /** null while the key waits for registration (chain time unknown). */
  state: DoppelgangerState | null;
  detail: string;
}

export interface DetectedKey {
  pubkey: string;
  index: number | null;
  epoch: bigint;
  detail: string;
  /** Beacon node that reported the key live. */
  node: string;
}

/** What the guard reports upward (cli routes it to the monitor's alerts). */
export interface DoppelgangerEvents {
  detected(keys: DetectedKey[]): void;
  /** An operator cleared a detection: its alert resolves. */
  cleared(pubkey: string, by: string): void;
  /** The check cannot progress (beacon nodes down, syncing, wrong network): `waiting` keys stay refused. */
  checkFailed(reason: string, waiting: number): void;
  checkRecovered(): void;
}
