import { AppError } from "../../util/errors.js";
import type { SignState } from "./hrsRule.js";
import { decodeCanonical } from "./signBytes.js";
import { type Hrs, SignedMsgType, Step } from "./types.js";

export enum StateFileErrorCode {
  Invalid = "ERR_COMETBFT_STATE_FILE_INVALID",
}

export class StateFileError extends AppError<{ code: StateFileErrorCode; field?: string }> {
  constructor(message: string, field?: string) {
    super(
      field === undefined ? { code: StateFileErrorCode.Invalid } : { code: StateFileErrorCode.Invalid, field },
      message,
    );
  }
}

/**
 * Formats a priv_validator_state.json can come in. FilePV and Horcrux use FilePV's steps (1 propose,
 * 2 prevote, 3 precommit); tmkms numbers them 0 proposal, 1 prevote, 2 precommit and adds `block_id`.
 */
export type StateFileFormat = "filepv" | "horcrux" | "tmkms";

const MAX_INT64 = (1n << 63n) - 1n;
const INT_RE = /^(0|[1-9][0-9]{0,18})$/;

function int64Field(v: unknown, field: string): bigint {
  const s = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof s !== "string" || !INT_RE.test(s))
    throw new StateFileError(`${field} must be a non-negative integer`, field);
  const n = BigInt(s);
  if (n > MAX_INT64) throw new StateFileError(`${field} exceeds int64`, field);
  return n;
}

function smallInt(v: unknown, field: string, max: number): number {
  const n = int64Field(v, field);
  if (n > BigInt(max)) throw new StateFileError(`${field} must be at most ${max}`, field);
  return Number(n);
}

/** Guesses the format: tmkms writes `block_id`, Horcrux writes the round as a string. */
function detectStateFormat(doc: Record<string, unknown>): StateFileFormat {
  if ("block_id" in doc) return "tmkms";
  if (typeof doc.round === "string" || "nonce_public" in doc) return "horcrux";
  return "filepv";
}

export interface ParsedState {
  format: StateFileFormat;
  state: SignState;
}

/**
 * Parses a priv_validator_state.json (FilePV, Horcrux or tmkms). Sign bytes and signature are kept only
 * together and only when the sign bytes are canonical bytes of a message at the state's own
 * height/round/step; a file with one of them but not the other is refused.
 */
export function parseStateFile(text: string, format?: StateFileFormat): ParsedState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new StateFileError("state file is not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new StateFileError("state file must be a JSON object");
  const o = doc as Record<string, unknown>;
  const fmt = format ?? detectStateFormat(o);
  const height = int64Field(o.height, "height");
  const round = smallInt(o.round ?? 0, "round", 0x7fffffff);
  let step: Step;
  if (fmt === "tmkms") {
    const s = smallInt(o.step ?? 0, "step", 2);
    step = [Step.Propose, Step.Prevote, Step.Precommit][s]!;
    // A fresh tmkms state is height 0 with step 0: nothing signed yet.
    if (height === 0n && round === 0) step = Step.None;
  } else step = smallInt(o.step ?? 0, "step", 3) as Step;
  const hrs: Hrs = { height, round, step };

  const signBytes = optionalBytes(o.signbytes, "signbytes", "hex");
  const signature = optionalBytes(o.signature, "signature", "base64");
  if ((signBytes === null) !== (signature === null))
    throw new StateFileError(
      "signbytes and signature must be given together",
      signBytes === null ? "signbytes" : "signature",
    );
  if (signature !== null && signature.length !== 64)
    throw new StateFileError("signature must be 64 bytes", "signature");
  if (signBytes !== null) checkSignBytesMatch(signBytes, hrs);
  return { format: fmt, state: { hrs, signBytes, signature } };
}

function optionalBytes(v: unknown, field: string, enc: "hex" | "base64"): Uint8Array | null {
  if (v === undefined || v === null || v === "") return null;
  const ok = typeof v === "string" && (enc === "hex" ? /^([0-9a-fA-F]{2})+$/ : /^[A-Za-z0-9+/]+={0,2}$/).test(v);
  if (!ok) throw new StateFileError(`${field} must be ${enc}`, field);
  const b = new Uint8Array(Buffer.from(v, enc));
  if (enc === "base64" && Buffer.from(b).toString("base64") !== v)
    throw new StateFileError(`${field} must be canonical base64`, field);
  return b;
}

function checkSignBytesMatch(signBytes: Uint8Array, hrs: Hrs): void {
  let c: ReturnType<typeof decodeCanonical>;
  try {
    c = decodeCanonical(signBytes);
  } catch {
    throw new StateFileError("signbytes are not canonical vote or proposal bytes", "signbytes");
  }
  const step =
    c.type === SignedMsgType.Proposal
      ? Step.Propose
      : c.type === SignedMsgType.Prevote
        ? Step.Prevote
        : c.type === SignedMsgType.Precommit
          ? Step.Precommit
          : null;
  if (c.height !== hrs.height || c.round !== BigInt(hrs.round) || step !== hrs.step)
    throw new StateFileError("signbytes are for another height/round/step than the state", "signbytes");
}

/** FilePV's own layout (cmtjson: int64 as string, bytes base64, sign bytes upper-case hex). */
export function formatStateFile(s: SignState): string {
  const v: ValidatorState = { height: s.hrs.height, round: s.hrs.round, step: s.hrs.step };
  if (s.signature !== null && s.signBytes !== null) {
    v.signature = Buffer.from(s.signature).toString("base64");
    v.signbytes = Buffer.from(s.signBytes).toString("hex").toUpperCase();
  }
  return `${serializeValidatorState(v)}\n`;
}

/**
 * FilePV's last sign state as the file holds it, signature (base64) and sign bytes (upper-case hex) kept as
 * text: the view of a file FilePV owns (failover reads it, raises it and syncs it between hosts). Unlike
 * `parseStateFile` it does not decode or pair the signature and sign bytes; it only carries them along.
 */
export interface ValidatorState extends Hrs {
  signature?: string;
  signbytes?: string;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_RE = /^([0-9A-Fa-f]{2})*$/;

/**
 * Checks a parsed priv_validator_state.json document as FilePV (or Horcrux, round as a string) writes it:
 * height a non-negative int64, round a non-negative int32, step 0 to 3, all present. Throws StateFileError.
 */
export function checkValidatorState(doc: unknown): ValidatorState {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new StateFileError("is not an object", "document");
  const o = doc as Record<string, unknown>;
  const height = int64Field(o.height, "height");
  // Horcrux writes round as a string; accept both.
  const round = typeof o.round === "string" && /^[0-9]{1,10}$/.test(o.round) ? Number(o.round) : o.round;
  if (typeof round !== "number" || !Number.isInteger(round) || round < 0 || round >= 2 ** 31)
    throw new StateFileError("round must be a non-negative int32", "round");
  const step = o.step;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0 || step > 3)
    throw new StateFileError("step must be 0, 1, 2 or 3", "step");
  const out: ValidatorState = { height, round, step };
  if (o.signature !== undefined && o.signature !== null && o.signature !== "") {
    if (typeof o.signature !== "string" || !BASE64_RE.test(o.signature))
      throw new StateFileError("signature must be base64", "signature");
    out.signature = o.signature;
  }
  if (o.signbytes !== undefined && o.signbytes !== null && o.signbytes !== "") {
    if (typeof o.signbytes !== "string" || !HEX_RE.test(o.signbytes))
      throw new StateFileError("signbytes must be hex", "signbytes");
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
