import { CometSignErrorCode, type CometSignErrorType } from "./errors.js";
import { differOnlyByTimestamp } from "./signBytes.js";
import { compareHrs, formatHrs, type Hrs, Step, type Timestamp } from "./types.js";

/** The last signature of one key on one chain (FilePVLastSignState). */
export interface SignState {
  hrs: Hrs;
  /** Null for a fresh key or an imported state without sign bytes. */
  signBytes: Uint8Array | null;
  signature: Uint8Array | null;
}

export const INITIAL_SIGN_STATE: SignState = {
  hrs: { height: 0n, round: 0, step: Step.None },
  signBytes: null,
  signature: null,
};

export type HrsDecision =
  | { result: "sign" }
  /** Same HRS: the stored signature; `timestamp` is set when only the timestamp differed (use the stored one). */
  | { result: "repeat"; signature: Uint8Array; timestamp: Timestamp | null }
  | { result: "refuse"; refusal: Omit<CometSignErrorType, "chainId" | "pubkey">; reason: string };

/**
 * FilePV's rule, read top to bottom: a lower height, round or step is refused; a higher position is
 * signed; the same position gets the stored signature when the sign bytes are identical or differ only
 * in the timestamp (then with the stored timestamp), and is refused otherwise.
 */
export function decideHrs(last: SignState, hrs: Hrs, signBytes: Uint8Array): HrsDecision {
  const refuse = (code: CometSignErrorCode, reason: string): HrsDecision => ({
    result: "refuse",
    refusal: { code, incoming: hrs, previous: last.hrs },
    reason: `${reason} (got ${formatHrs(hrs)}, last ${formatHrs(last.hrs)})`,
  });
  const prev = last.hrs;
  if (hrs.height < prev.height) return refuse(CometSignErrorCode.HeightRegression, "height regression");
  if (hrs.height === prev.height && hrs.round < prev.round)
    return refuse(CometSignErrorCode.RoundRegression, "round regression");
  if (hrs.height === prev.height && hrs.round === prev.round && hrs.step < prev.step)
    return refuse(CometSignErrorCode.StepRegression, "step regression");
  if (compareHrs(hrs, prev) > 0) return { result: "sign" };

  // Same height, round and step.
  if (last.signBytes === null || last.signature === null)
    return refuse(CometSignErrorCode.NoSignBytes, "already signed at this height/round/step; no sign bytes stored");
  if (last.signBytes.length === signBytes.length && Buffer.compare(last.signBytes, signBytes) === 0)
    return { result: "repeat", signature: last.signature, timestamp: null };
  const storedTimestamp = differOnlyByTimestamp(last.signBytes, signBytes);
  if (storedTimestamp !== null) return { result: "repeat", signature: last.signature, timestamp: storedTimestamp };
  return refuse(CometSignErrorCode.ConflictingData, "conflicting data at the same height/round/step");
}
