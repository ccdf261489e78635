import { readFile } from "node:fs/promises";
import { writeFileDurableAsync } from "../../util/durableFile.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";

/**
 * CometBFT FilePV's last sign state (priv_validator_state.json): height is an int64 written as a string,
 * round an int32, step 0 none, 1 propose, 2 prevote, 3 precommit; signature (base64) and signbytes
 * (upper-case hex) belong to the last signed message and let FilePV answer a repeat of the same HRS.
 */
export interface ValidatorState {
  height: bigint;
  round: number;
  step: number;
  signature?: string;
  signbytes?: string;
}

export const ZERO_STATE: ValidatorState = { height: 0n, round: 0, step: 0 };

const INT64_MAX = (1n << 63n) - 1n;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_RE = /^([0-9A-Fa-f]{2})*$/;

function bad(file: string, field: string, what: string): FailoverError {
  return new FailoverError(
    { code: FailoverErrorCode.StateInvalid, file, field },
    `${file}: ${field} ${what}; fix or remove the file by hand, slashguard will not guess`,
  );
}

/** Checks a parsed state document (a file, or a peer's /validator_state answer named by `source`). */
export function parseValidatorState(doc: unknown, source: string): ValidatorState {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw bad(source, "document", "is not an object");
  const o = doc as Record<string, unknown>;
  let height: bigint;
  if (typeof o.height === "string" && /^(0|[1-9][0-9]{0,18})$/.test(o.height)) height = BigInt(o.height);
  else if (typeof o.height === "number" && Number.isSafeInteger(o.height) && o.height >= 0) height = BigInt(o.height);
  else throw bad(source, "height", "must be a non-negative int64 (a decimal string)");
  if (height > INT64_MAX) throw bad(source, "height", "exceeds int64");
  // Horcrux writes round as a string; accept both.
  const round = typeof o.round === "string" && /^[0-9]{1,10}$/.test(o.round) ? Number(o.round) : o.round;
  if (typeof round !== "number" || !Number.isInteger(round) || round < 0 || round >= 2 ** 31) {
    throw bad(source, "round", "must be a non-negative int32");
  }
  const step = o.step;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0 || step > 3) {
    throw bad(source, "step", "must be 0, 1, 2 or 3");
  }
  const out: ValidatorState = { height, round, step };
  if (o.signature !== undefined && o.signature !== null && o.signature !== "") {
    if (typeof o.signature !== "string" || !BASE64_RE.test(o.signature))
      throw bad(source, "signature", "must be base64");
    out.signature = o.signature;
  }
  if (o.signbytes !== undefined && o.signbytes !== null && o.signbytes !== "") {
    if (typeof o.signbytes !== "string" || !HEX_RE.test(o.signbytes)) throw bad(source, "signbytes", "must be hex");
    out.signbytes = o.signbytes.toUpperCase();
  }
  return out;
}

/** The file as CometBFT writes it (cmtjson.MarshalIndent with two spaces, no trailing newline). */
export function serializeValidatorState(s: ValidatorState): string {
  const o: Record<string, unknown> = { height: s.height.toString(), round: s.round, step: s.step };
  if (s.signature !== undefined) o.signature = s.signature;
  if (s.signbytes !== undefined) o.signbytes = s.signbytes;
  return JSON.stringify(o, null, 2);
}

/** Orders by (height, round, step): FilePV refuses to sign anything below the state it loaded. */
export function compareHrs(a: ValidatorState, b: ValidatorState): number {
  if (a.height !== b.height) return a.height < b.height ? -1 : 1;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return a.step === b.step ? 0 : a.step < b.step ? -1 : 1;
}

/** The highest of the states given (the first of equal ones wins, so the current file is kept on a tie). */
export function maxState(states: readonly (ValidatorState | null)[]): ValidatorState | null {
  let best: ValidatorState | null = null;
  for (const s of states) if (s !== null && (best === null || compareHrs(s, best) > 0)) best = s;
  return best;
}

/** The state just above a height the chain shows signed: nothing at or below it may be signed again. */
export function stateAfterHeight(height: bigint): ValidatorState {
  return { height: height + 1n, round: 0, step: 0 };
}

export const formatHrs = (s: ValidatorState): string => `${s.height}/${s.round}/${s.step}`;

/** Reads and checks the state file; null when it does not exist (a malformed file is an error). */
export async function readStateFile(path: string): Promise<ValidatorState | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(path, "document", "is not JSON");
  }
  return parseValidatorState(doc, path);
}

export interface RaiseResult {
  before: ValidatorState | null;
  after: ValidatorState;
  written: boolean;
}

/**
 * Raises a state file to the highest of its current content and `candidates` (the copy synced from the old
 * active, the chain's last signed height + 1). Never lowers it. `assertStopped` runs first and throws unless
 * the node is stopped: FilePV reads the file only at start and overwrites it while running. The file is read
 * back to prove the write.
 */
export async function raiseStateFile(
  path: string,
  candidates: readonly (ValidatorState | null)[],
  assertStopped: () => Promise<void>,
): Promise<RaiseResult> {
  await assertStopped();
  const before = await readStateFile(path);
  const after = maxState([before, ...candidates]) ?? ZERO_STATE;
  if (before !== null && compareHrs(after, before) <= 0) return { before, after: before, written: false };
  await writeFileDurableAsync(path, serializeValidatorState(after), { keepOwner: true });
  const check = await readStateFile(path);
  if (check === null || compareHrs(check, after) !== 0) {
    throw new FailoverError(
      { code: FailoverErrorCode.StateInvalid, file: path, field: "document" },
      `${path} does not read back as written`,
    );
  }
  return { before, after, written: true };
}

/** How state files are read and raised (injected by the fault-schedule model; default: the file system). */
export interface StateFileIo {
  read(path: string): Promise<ValidatorState | null>;
  raise(
    path: string,
    candidates: readonly (ValidatorState | null)[],
    assertStopped: () => Promise<void>,
  ): Promise<RaiseResult>;
}

export const fsStateFileIo: StateFileIo = { read: readStateFile, raise: raiseStateFile };
