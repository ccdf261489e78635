import { createHash } from "node:crypto";
import {
  type BlockId,
  emptyProposal,
  emptyVote,
  GO_ZERO_TIME,
  type Proposal,
  type Timestamp,
  type Vote,
  ZERO_BLOCK_ID,
} from "../../src/chains/cometbft/types.js";
import { loadVector } from "./vectors.js";

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** An RFC 3339 UTC time with up to nanosecond precision (a JS Date alone would drop the nanoseconds). */
export function parseRfc3339(s: string): Timestamp | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return { seconds: BigInt(ms / 1000), nanos: m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0")) };
}

/** Vector files of ../shared/vectors/cometbft (see its README.md). */
export const cometVector = <T>(file: string): T => loadVector<T>(`cometbft/${file}`);

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
export const toHexStr = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const sha256 = (s: string): Uint8Array => new Uint8Array(createHash("sha256").update(s).digest());

/** The vectors describe some byte values in words: `sha256("x")`, ASCII text or hex. */
function bytesOf(v: unknown, ascii = false): Uint8Array {
  if (v === undefined || v === "") return new Uint8Array(0);
  const s = String(v);
  const m = /^sha256\("(.*)"\)$/.exec(s);
  if (m) return sha256(m[1]!);
  return ascii ? new Uint8Array(Buffer.from(s, "ascii")) : hex(s);
}

function timestampOf(input: Record<string, unknown>): Timestamp {
  if (input.timestamp_seconds !== undefined)
    return { seconds: BigInt(String(input.timestamp_seconds)), nanos: Number(input.timestamp_nanos ?? 0) };
  const t = input.timestamp;
  if (t === undefined || String(t).startsWith("Go zero time")) return GO_ZERO_TIME;
  const parsed = parseRfc3339(String(t));
  if (parsed === null) throw new Error(`vector timestamp ${String(t)} does not parse`);
  return parsed;
}

function blockIdOf(input: Record<string, unknown>): BlockId {
  if (typeof input.block_id === "string") return ZERO_BLOCK_ID; // "none" / "zero (nil vote)"
  const hash = input.block_hash_ascii !== undefined ? bytesOf(input.block_hash_ascii, true) : bytesOf(input.block_hash);
  const pshHash = input.psh_hash_ascii !== undefined ? bytesOf(input.psh_hash_ascii, true) : bytesOf(input.psh_hash);
  return { hash, partSetHeader: { total: Number(input.psh_total ?? 0), hash: pshHash } };
}

export function voteFromVector(input: Record<string, unknown>): Vote {
  return {
    ...emptyVote(),
    type: Number(input.type ?? 0),
    height: BigInt(String(input.height ?? 0)),
    round: Number(input.round ?? 0),
    blockId: blockIdOf(input),
    timestamp: timestampOf(input),
    extension:
      input.extension_utf8 === undefined ? new Uint8Array(0) : new TextEncoder().encode(String(input.extension_utf8)),
  };
}

export function proposalFromVector(input: Record<string, unknown>): Proposal {
  return {
    ...emptyProposal(),
    type: 32,
    height: BigInt(String(input.height)),
    round: Number(input.round),
    polRound: Number(input.pol_round ?? 0),
    blockId: blockIdOf(input),
    timestamp: timestampOf(input),
  };
}
