/**
 * Reference model of Substrate slashing protection (docs/substrate.md, /work/shared/vectors/substrate
 * protection_rules.json) over every record a key signed or had imported:
 * - GRANDPA: per (set id, round, stage) one target; the same target again is a repeat; primary proposals
 *   are recorded and never refused.
 * - BABE: one pre-hash per slot. BEEFY: one commitment per (set id, block number).
 * - disputes: one side per candidate (seconded and valid are the valid side); a statement again is a repeat.
 * - watermarks (from imports and pruning): set id (GRANDPA, BEEFY), slot, session; below one is refused,
 *   and so is a dispute statement of unknown session once there is a session watermark.
 * - one public key, one key type (defect 7, migration 0007): the first type a public key is filed under
 *   binds it; any other type is refused, for requests and imports alike.
 * A null hash (two records merged by an import) equals nothing.
 */

export type Stage = 0 | 1 | 2; // prevote, precommit, primary propose
export type Statement = "seconded" | "valid" | "invalid";

export type MRec =
  | { kind: "grandpa"; setId: bigint; round: bigint; stage: Stage; target: number | null }
  | { kind: "babe"; slot: bigint; pre: number | null }
  | { kind: "beefy"; setId: bigint; block: bigint; commitment: number | null }
  | { kind: "para"; candidate: number; statement: Statement; session: bigint | null }
  /** an imported para vote recorded on both sides */
  | { kind: "para-both"; candidate: number; session: bigint | null };

export interface MLows {
  setId: bigint | null;
  slot: bigint | null;
  session: bigint | null;
}

export interface MSubKey {
  records: MRec[];
  low: MLows;
}

export interface MSubReq {
  keyType: string;
  pub: number;
  rec: MRec;
}

export type MDecision = { allow: "new" | "repeat" } | { refuse: string[] };

const side = (s: Statement): "valid" | "invalid" => (s === "invalid" ? "invalid" : "valid");
const maxN = (a: bigint | null, b: bigint | null): bigint | null => (a === null ? b : b === null || b < a ? a : b);

export class SubstrateModel {
  readonly keys = new Map<number, MSubKey>();
  /** public key -> the key type it is filed under */
  readonly bound = new Map<number, string>();

  clone(): SubstrateModel {
    const c = new SubstrateModel();
    for (const [k, v] of this.keys) c.keys.set(k, { records: [...v.records], low: { ...v.low } });
    for (const [k, v] of this.bound) c.bound.set(k, v);
    return c;
  }

  key(pub: number): MSubKey {
    let k = this.keys.get(pub);
    if (k === undefined) {
      k = { records: [], low: { setId: null, slot: null, session: null } };
      this.keys.set(pub, k);
    }
    return k;
  }

  decide(r: MSubReq): MDecision {
    const b = this.bound.get(r.pub);
    if (b !== undefined && b !== r.keyType) return { refuse: ["ERR_SUBSTRATE_KEY_TYPE_CONFLICT"] };
    const { records, low } = this.key(r.pub);
    const x = r.rec;
    const below = (v: bigint | null, l: bigint | null): boolean => v !== null && l !== null && v < l;
    if (x.kind === "grandpa") {
      if (below(x.setId, low.setId)) return { refuse: ["ERR_SUBSTRATE_BELOW_WATERMARK"] };
      if (x.stage === 2) return { allow: "new" };
      const same = records.filter(
        (o) => o.kind === "grandpa" && o.setId === x.setId && o.round === x.round && o.stage === x.stage,
      ) as Extract<MRec, { kind: "grandpa" }>[];
      if (same.length === 0) return { allow: "new" };
      return same.every((o) => o.target !== null && o.target === x.target)
        ? { allow: "repeat" }
        : { refuse: ["ERR_SUBSTRATE_GRANDPA_EQUIVOCATION"] };
    }
    if (x.kind === "babe") {
      if (below(x.slot, low.slot)) return { refuse: ["ERR_SUBSTRATE_BELOW_WATERMARK"] };
      const same = records.filter((o) => o.kind === "babe" && o.slot === x.slot) as Extract<MRec, { kind: "babe" }>[];
      if (same.length === 0) return { allow: "new" };
      return same.every((o) => o.pre !== null && o.pre === x.pre)
        ? { allow: "repeat" }
        : { refuse: ["ERR_SUBSTRATE_BABE_EQUIVOCATION"] };
    }
    if (x.kind === "beefy") {
      if (below(x.setId, low.setId)) return { refuse: ["ERR_SUBSTRATE_BELOW_WATERMARK"] };
      const same = records.filter((o) => o.kind === "beefy" && o.setId === x.setId && o.block === x.block) as Extract<
        MRec,
        { kind: "beefy" }
      >[];
      if (same.length === 0) return { allow: "new" };
      return same.every((o) => o.commitment !== null && o.commitment === x.commitment)
        ? { allow: "repeat" }
        : { refuse: ["ERR_SUBSTRATE_BEEFY_DOUBLE_VOTE"] };
    }
    if (x.kind === "para-both") throw new Error("not a request");
    // a statement of unknown session: once there is a session watermark, its candidate may be pruned
    if (below(x.session, low.session) || (x.session === null && low.session !== null))
      return { refuse: ["ERR_SUBSTRATE_BELOW_WATERMARK"] };
    const same = records.filter(
      (o) => (o.kind === "para" || o.kind === "para-both") && o.candidate === x.candidate,
    ) as Extract<MRec, { kind: "para" | "para-both" }>[];
    if (same.some((o) => o.kind === "para-both" || side(o.statement) !== side(x.statement)))
      return { refuse: ["ERR_SUBSTRATE_PARA_DOUBLE_VOTE"] };
    return same.some((o) => o.kind === "para" && o.statement === x.statement) ? { allow: "repeat" } : { allow: "new" };
  }

  /** Decides and records; the request files its key first if the key was not filed yet. */
  apply(r: MSubReq): MDecision {
    this.bind(r.pub, r.keyType);
    const d = this.decide(r);
    if ("allow" in d && d.allow === "new") this.key(r.pub).records.push(r.rec);
    return d;
  }

  /** Files a key (a key registered by a request that was refused later is still filed). */
  bind(pub: number, keyType: string): boolean {
    const b = this.bound.get(pub);
    if (b === undefined) this.bound.set(pub, keyType);
    return b === undefined || b === keyType;
  }

  /** An import adds every record and raises watermarks; a key filed under another type refuses it all. */
  import(entries: readonly { keyType: string; pub: number; low: MLows; records: MRec[] }[]): boolean {
    const trial = new Map(this.bound);
    for (const e of entries) {
      const b = trial.get(e.pub);
      if (b !== undefined && b !== e.keyType) return false;
      trial.set(e.pub, e.keyType);
    }
    for (const [p, t] of trial) this.bound.set(p, t);
    for (const e of entries) {
      const k = this.key(e.pub);
      k.records.push(...e.records);
      k.low = {
        setId: maxN(k.low.setId, e.low.setId),
        slot: maxN(k.low.slot, e.low.slot),
        session: maxN(k.low.session, e.low.session),
      };
    }
    return true;
  }

  /**
   * Pruning as documented: keep the last `keep` sessions: the set id watermark becomes the highest set id
   * signed (GRANDPA or BEEFY) + 1 - keep, the slot watermark the highest slot + 1 - keep x slots per
   * session, the session watermark the highest session + 1 - keep; watermarks only rise.
   */
  prune(keep: bigint, slotsPerSession: bigint): void {
    for (const k of this.keys.values()) {
      let set: bigint | null = null;
      let slot: bigint | null = null;
      let session: bigint | null = null;
      for (const r of k.records) {
        if (r.kind === "grandpa" || r.kind === "beefy") set = maxN(set, r.setId);
        else if (r.kind === "babe") slot = maxN(slot, r.slot);
        else session = maxN(session, r.session);
      }
      const lower = (last: bigint | null, span: bigint): bigint | null =>
        last !== null && last + 1n > span ? last + 1n - span : null;
      k.low = {
        setId: maxN(k.low.setId, lower(set, keep)),
        slot: maxN(k.low.slot, lower(slot, keep * slotsPerSession)),
        session: maxN(k.low.session, lower(session, keep)),
      };
    }
  }
}
