import { readFile } from "node:fs/promises";
import {
  checkValidatorState,
  compareHrs,
  StateFileError,
  Step,
  serializeValidatorState,
  type ValidatorState,
} from "../../chains/cometbft/index.js";
import { writeFileDurableAsync } from "../../util/durableFile.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";

/** Nothing signed yet: what a missing file means to FilePV. */
const ZERO_STATE: ValidatorState = { height: 0n, round: 0, step: Step.None };

function bad(file: string, field: string, what: string): FailoverError {
  return new FailoverError(
    { code: FailoverErrorCode.StateInvalid, file, field },
    `${file}: ${field} ${what}; fix or remove the file by hand, slashguard will not guess`,
  );
}

/**
 * Checks a parsed state document (a file, or a peer's /validator_state answer named by `source`) with
 * chains/cometbft's rule; a bad one is ERR_FAILOVER_STATE_INVALID naming the source and the field.
 */
export function parseValidatorState(doc: unknown, source: string): ValidatorState {
  try {
    return checkValidatorState(doc);
  } catch (e) {
    if (e instanceof StateFileError) throw bad(source, e.type.field ?? "document", e.message);
    throw e;
  }
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
