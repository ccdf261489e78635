import { AppError } from "../../util/errors.js";
import { U64_MAX } from "../../util/u64.js";
import { GRANDPA_STAGE_NAMES, type GrandpaStage, type ParaStatement } from "./types.js";

/** The documented interchange of Substrate protection state (docs/substrate.md, "Interchange"). */
export const SUBSTRATE_INTERCHANGE_FORMAT = "slashguard.substrate.interchange";
export const SUBSTRATE_INTERCHANGE_VERSION = "1";

export enum SubstrateInterchangeErrorCode {
  Malformed = "ERR_SUBSTRATE_INTERCHANGE_MALFORMED",
  Version = "ERR_SUBSTRATE_INTERCHANGE_VERSION",
}

export class SubstrateInterchangeError extends AppError<{ code: SubstrateInterchangeErrorCode; path: string }> {}

export interface InterchangeKey {
  keyType: string;
  publicKey: Uint8Array;
  low: { setId: bigint | null; slot: bigint | null; session: bigint | null };
  grandpaVotes: {
    setId: bigint;
    round: bigint;
    stage: GrandpaStage;
    targetHash: Uint8Array | null;
    targetNumber: bigint | null;
  }[];
  grandpaProposals: { setId: bigint; round: bigint; targetHash: Uint8Array; targetNumber: bigint }[];
  babeBlocks: { slot: bigint; preHash: Uint8Array | null; authorityIndex: number | null }[];
  paraVotes: {
    candidateHash: Uint8Array;
    side: "valid" | "invalid" | "both";
    statements: ParaStatement[];
    session: bigint | null;
  }[];
  beefyVotes: { setId: bigint; blockNumber: bigint; commitmentHash: Uint8Array | null }[];
}

const STAGES: Record<string, GrandpaStage> = { prevote: 0, precommit: 1 };
const STATEMENTS: readonly ParaStatement[] = ["seconded", "valid", "invalid"];

class Reader {
  constructor(readonly path: string) {}

  fail(detail: string, at = this.path): never {
    throw new SubstrateInterchangeError(
      { code: SubstrateInterchangeErrorCode.Malformed, path: at },
      `substrate interchange: ${at}: ${detail}`,
    );
  }

  obj(v: unknown): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail("must be an object");
    return v as Record<string, unknown>;
  }

  arr(v: unknown, field: string): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail("must be an array", `${this.path}.${field}`);
    return v;
  }

  u64(v: unknown, field: string): bigint {
    if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) > U64_MAX) {
      this.fail("must be a decimal string of a u64", `${this.path}.${field}`);
    }
    return BigInt(v);
  }

  u64OrNull(v: unknown, field: string): bigint | null {
    return v === null || v === undefined ? null : this.u64(v, field);
  }

  hex(v: unknown, field: string, len: number | readonly number[]): Uint8Array {
    const lens = typeof len === "number" ? [len] : len;
    if (typeof v !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(v) || !lens.includes((v.length - 2) / 2)) {
      this.fail(`must be 0x-hex of ${lens.join(" or ")} bytes`, `${this.path}.${field}`);
    }
    return new Uint8Array(Buffer.from(v.slice(2), "hex"));
  }

  hexOrNull(v: unknown, field: string): Uint8Array | null {
    return v === null || v === undefined ? null : this.hex(v, field, 32);
  }
}

/** Validates a parsed interchange document fully before anything is imported. */
export function parseSubstrateInterchange(doc: unknown): InterchangeKey[] {
  const root = new Reader("$");
  const d = root.obj(doc);
  const meta = new Reader("$.metadata").obj(d.metadata);
  if (meta.format !== SUBSTRATE_INTERCHANGE_FORMAT || meta.version !== SUBSTRATE_INTERCHANGE_VERSION) {
    throw new SubstrateInterchangeError(
      { code: SubstrateInterchangeErrorCode.Version, path: "$.metadata" },
      `substrate interchange: expected format ${SUBSTRATE_INTERCHANGE_FORMAT} version ${SUBSTRATE_INTERCHANGE_VERSION}`,
    );
  }
  return root.arr(d.keys, "keys").map((k, i) => {
    const r: Reader = new Reader(`$.keys[${i}]`);
    const o = r.obj(k);
    if (typeof o.key_type !== "string" || !/^[\x21-\x7e]{4}$/.test(o.key_type))
      r.fail("key_type must be 4 ASCII characters");
    const low = o.low === undefined || o.low === null ? {} : r.obj(o.low);
    const sub = (field: string, j: number): Reader => new Reader(`${r.path}.${field}[${j}]`);
    return {
      keyType: o.key_type,
      publicKey: r.hex(o.public_key, "public_key", [32, 33]),
      low: {
        setId: r.u64OrNull(low.set_id, "low.set_id"),
        slot: r.u64OrNull(low.slot, "low.slot"),
        session: r.u64OrNull(low.session, "low.session"),
      },
      grandpaVotes: r.arr(o.grandpa_votes, "grandpa_votes").map((v, j) => {
        const q: Reader = sub("grandpa_votes", j);
        const x = q.obj(v);
        const stage = STAGES[String(x.stage)];
        if (stage === undefined) q.fail("stage must be prevote or precommit");
        return {
          setId: q.u64(x.set_id, "set_id"),
          round: q.u64(x.round, "round"),
          stage,
          targetHash: q.hexOrNull(x.target_hash, "target_hash"),
          targetNumber: q.u64OrNull(x.target_number, "target_number"),
        };
      }),
      grandpaProposals: r.arr(o.grandpa_proposals, "grandpa_proposals").map((v, j) => {
        const q: Reader = sub("grandpa_proposals", j);
        const x = q.obj(v);
        return {
          setId: q.u64(x.set_id, "set_id"),
          round: q.u64(x.round, "round"),
          targetHash: q.hex(x.target_hash, "target_hash", 32),
          targetNumber: q.u64(x.target_number, "target_number"),
        };
      }),
      babeBlocks: r.arr(o.babe_blocks, "babe_blocks").map((v, j) => {
        const q: Reader = sub("babe_blocks", j);
        const x = q.obj(v);
        const ai = x.authority_index;
        if (
          ai !== null &&
          ai !== undefined &&
          (!Number.isInteger(ai) || (ai as number) < 0 || (ai as number) > 0xffffffff)
        ) {
          q.fail("authority_index must be a u32");
        }
        return {
          slot: q.u64(x.slot, "slot"),
          preHash: q.hexOrNull(x.pre_hash, "pre_hash"),
          authorityIndex: ai === null || ai === undefined ? null : (ai as number),
        };
      }),
      paraVotes: r.arr(o.para_votes, "para_votes").map((v, j) => {
        const q: Reader = sub("para_votes", j);
        const x = q.obj(v);
        if (x.side !== "valid" && x.side !== "invalid" && x.side !== "both")
          q.fail("side must be valid, invalid or both");
        const statements = q.arr(x.statements, "statements").map((s) => {
          if (!STATEMENTS.includes(s as ParaStatement)) q.fail("statements must be seconded, valid or invalid");
          return s as ParaStatement;
        });
        return {
          candidateHash: q.hex(x.candidate_hash, "candidate_hash", 32),
          side: x.side,
          statements,
          session: q.u64OrNull(x.session, "session"),
        };
      }),
      beefyVotes: r.arr(o.beefy_votes, "beefy_votes").map((v, j) => {
        const q: Reader = sub("beefy_votes", j);
        const x = q.obj(v);
        return {
          setId: q.u64(x.set_id, "set_id"),
          blockNumber: q.u64(x.block_number, "block_number"),
          commitmentHash: q.hexOrNull(x.commitment_hash, "commitment_hash"),
        };
      }),
    };
  });
}

export const stageName = (s: GrandpaStage): string => GRANDPA_STAGE_NAMES[s];
