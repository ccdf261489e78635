import { SubstrateError, SubstrateErrorCode } from "./errors.js";
import { ScaleReader } from "./scale.js";
import type { ParaRecord, ParaStatement } from "./types.js";

const MAGIC_BACKING = "BKNG";
const MAGIC_DISPUTE = "DISP";
const MAGIC_APPROVAL = "APPR";

/**
 * Reads what a `para` key's message says about candidates, from the message itself:
 * - backing: "BKNG" ‖ 1 Seconded | 2 Valid ‖ candidate hash ‖ SigningContext {session u32, parent hash}
 * - explicit dispute vote: "DISP" ‖ valid bool ‖ candidate hash ‖ session u32
 * - approval vote: "APPR" ‖ candidate hash ‖ session u32, or "APPR" ‖ Vec<candidate hash> ‖ session u32
 * Anything else (availability bitfields, PVF checks…) is about no candidate and returns []: it cannot
 * be part of a dispute double vote.
 */
export function decodeParaMessage(message: Uint8Array): ParaRecord[] {
  if (message.length < 4) return [];
  const magic = Buffer.from(message.subarray(0, 4)).toString("latin1");
  const r = new ScaleReader(message, "parachain statement");
  r.fixed(4, "magic");
  const rec = (candidateHash: Uint8Array, statement: ParaStatement, session: number): ParaRecord => ({
    kind: "para",
    candidateHash: candidateHash.slice(),
    statement,
    session: BigInt(session),
  });
  switch (magic) {
    case MAGIC_BACKING: {
      if (message.length !== 73) return [];
      const kind = r.u8("statement kind");
      if (kind !== 1 && kind !== 2) return [];
      const hash = r.fixed(32, "candidate hash");
      const session = r.u32("session index");
      r.fixed(32, "parent hash");
      r.end();
      return [rec(hash, kind === 1 ? "seconded" : "valid", session)];
    }
    case MAGIC_DISPUTE: {
      if (message.length !== 41) return [];
      const valid = r.bool("valid");
      const hash = r.fixed(32, "candidate hash");
      const session = r.u32("session index");
      r.end();
      return [rec(hash, valid ? "valid" : "invalid", session)];
    }
    case MAGIC_APPROVAL: {
      if (message.length === 40) {
        const hash = r.fixed(32, "candidate hash");
        return [rec(hash, "valid", r.u32("session index"))];
      }
      const n = r.compact("candidate count");
      if (BigInt(r.remaining) !== n * 32n + 4n) {
        throw new SubstrateError(
          { code: SubstrateErrorCode.Malformed, what: "approval vote" },
          "approval vote length does not match its candidate count",
        );
      }
      const hashes: Uint8Array[] = [];
      for (let i = 0n; i < n; i++) hashes.push(r.fixed(32, "candidate hash"));
      const session = r.u32("session index");
      return hashes.map((h) => rec(h, "valid", session));
    }
    default:
      return [];
  }
}
