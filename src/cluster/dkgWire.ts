import { ThresholdError, ThresholdErrorCode } from "../keys/index.js";

/** A DKG round message as the transport carries it (see cluster.proto, DkgMessage). */
export interface DkgWireMessage {
  session: string;
  round: DkgRound;
  threshold: number;
  keys: number;
  commitHash: Uint8Array;
  /** Round 2: keys × threshold points, key-major. */
  commitments: Uint8Array[];
  shares: Uint8Array[];
  transcriptHash: Uint8Array;
  /** Round 4 (abort): whom the sender complains about, and why. */
  accused: number;
  reason: string;
}

/** 1: commitment hash, 2: dealing, 3: transcript hash, 4: abort. */
export type DkgRound = 1 | 2 | 3 | 4;

export function encodeDkgMessage(m: DkgWireMessage): Record<string, unknown> {
  return {
    session: m.session,
    round: m.round,
    threshold: m.threshold,
    keys: m.keys,
    commit_hash: Buffer.from(m.commitHash),
    commitments: m.commitments.map((c) => Buffer.from(c)),
    shares: m.shares.map((s) => Buffer.from(s)),
    transcript_hash: Buffer.from(m.transcriptHash),
    accused: m.accused,
    reason: m.reason,
  };
}

export function decodeDkgMessage(raw: unknown): DkgWireMessage {
  const r = raw as {
    session: string;
    round: number;
    threshold: number;
    keys: number;
    commit_hash: Buffer;
    commitments: Buffer[];
    shares: Buffer[];
    transcript_hash: Buffer;
    accused: number;
    reason: string;
  };
  const round = Number(r.round);
  if (round !== 1 && round !== 2 && round !== 3 && round !== 4)
    throw new ThresholdError({ code: ThresholdErrorCode.BadInput, field: "round" }, `unknown DKG round ${round}`);
  return {
    session: String(r.session),
    round,
    threshold: Number(r.threshold),
    keys: Number(r.keys),
    commitHash: new Uint8Array(r.commit_hash ?? []),
    commitments: (r.commitments ?? []).map((c) => new Uint8Array(c)),
    shares: (r.shares ?? []).map((s) => new Uint8Array(s)),
    transcriptHash: new Uint8Array(r.transcript_hash ?? []),
    accused: Number(r.accused ?? 0),
    reason: String(r.reason ?? "").slice(0, 512),
  };
}
