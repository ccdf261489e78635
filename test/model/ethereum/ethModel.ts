/**
 * Reference model of Ethereum slashing protection (EIP-3076, complete strategy with low watermarks), as
 * plain functions over everything a key ever signed or imported. Nothing is ever forgotten here: pruning
 * and export only move watermarks, so the engine (which deletes and leaves out records) is checked
 * against the whole history.
 */

export const U64_MAX = (1n << 64n) - 1n;

export interface MBlock {
  slot: bigint;
  /** null: unknown (imported without a root); equals nothing */
  root: number | null;
}
export interface MAtt {
  source: bigint;
  target: bigint;
  root: number | null;
}

export interface MKey {
  blocks: MBlock[];
  atts: MAtt[];
  lowSlot: bigint | null;
  lowSource: bigint | null;
  lowTarget: bigint | null;
}

export type MReq =
  | { kind: "block"; key: number; slot: bigint; root: number }
  | {
      kind: "attestation";
      key: number;
      source: bigint;
      target: bigint;
      root: number;
    };

/** allowed (new record or repeat of an identical one), or refused with every rule it breaks. */
export type MDecision = { allow: "new" | "repeat" } | { refuse: string[] };

const sameRoot = (a: number | null, b: number | null): boolean => a !== null && b !== null && a === b;

export class EthModel {
  readonly keys = new Map<number, MKey>();

  key(k: number): MKey {
    let m = this.keys.get(k);
    if (m === undefined) {
      m = { blocks: [], atts: [], lowSlot: null, lowSource: null, lowTarget: null };
      this.keys.set(k, m);
    }
    return m;
  }

  clone(): EthModel {
    const c = new EthModel();
    for (const [k, m] of this.keys) c.keys.set(k, { ...m, blocks: [...m.blocks], atts: [...m.atts] });
    return c;
  }

  /** The decision on a request, without recording it. */
  decide(r: MReq): MDecision {
    if (r.kind === "block" ? r.slot > U64_MAX : r.source > U64_MAX || r.target > U64_MAX)
      return { refuse: ["ERR_BAD_REQUEST"] };
    const m = this.key(r.key);
    const why: string[] = [];
    if (r.kind === "block") {
      const same = m.blocks.filter((b) => b.slot === r.slot);
      // EIP-3076 condition 1: no two different blocks at one slot (an unknown root conflicts with all)
      if (same.some((b) => !sameRoot(b.root, r.root))) why.push("ERR_BLOCK_DOUBLE_PROPOSAL");
      // condition 2: nothing below the low watermark, at it only a repeat
      if (m.lowSlot !== null && (r.slot < m.lowSlot || (r.slot === m.lowSlot && same.length === 0)))
        why.push("ERR_BLOCK_BELOW_LOW_WATERMARK");
      return why.length > 0 ? { refuse: why } : { allow: same.length > 0 ? "repeat" : "new" };
    }
    const { source: s, target: t } = r;
    if (s > t) return { refuse: ["ERR_ATTESTATION_SOURCE_AFTER_TARGET"] };
    const atTarget = m.atts.filter((a) => a.target === t);
    if (atTarget.some((a) => a.source !== s || !sameRoot(a.root, r.root))) why.push("ERR_ATTESTATION_DOUBLE_VOTE");
    if (m.atts.some((a) => a.source < s && a.target > t)) why.push("ERR_ATTESTATION_SURROUNDED");
    if (m.atts.some((a) => a.source > s && a.target < t)) why.push("ERR_ATTESTATION_SURROUNDING");
    if (m.lowSource !== null && s < m.lowSource) why.push("ERR_ATTESTATION_SOURCE_BELOW_LOW_WATERMARK");
    if (m.lowTarget !== null && (t < m.lowTarget || (t === m.lowTarget && atTarget.length === 0)))
      why.push("ERR_ATTESTATION_TARGET_BELOW_LOW_WATERMARK");
    return why.length > 0 ? { refuse: why } : { allow: atTarget.length > 0 ? "repeat" : "new" };
  }

  /** Decides and, when allowed as new, records (the first record sets the watermarks). */
  apply(r: MReq): MDecision {
    const d = this.decide(r);
    if (!("allow" in d) || d.allow === "repeat") return d;
    const m = this.key(r.key);
    if (r.kind === "block") {
      m.blocks.push({ slot: r.slot, root: r.root });
      m.lowSlot ??= r.slot;
    } else {
      m.atts.push({ source: r.source, target: r.target, root: r.root });
      m.lowSource ??= r.source;
      m.lowTarget ??= r.target;
    }
    return d;
  }

  /**
   * An interchange import: every record joins; each watermark rises to the file's minimum for the key
   * (over all of the key's entries: a key named twice in a file is one key).
   */
  import(entries: readonly { key: number; blocks: MBlock[]; atts: MAtt[] }[]): void {
    for (const k of new Set(entries.map((e) => e.key))) {
      const blocks = entries.filter((e) => e.key === k).flatMap((e) => e.blocks);
      const atts = entries.filter((e) => e.key === k).flatMap((e) => e.atts);
      const m = this.key(k);
      m.blocks.push(...blocks);
      m.atts.push(...atts);
      if (blocks.length > 0) m.lowSlot = maxN(m.lowSlot, min(blocks.map((b) => b.slot)));
      if (atts.length > 0) {
        m.lowSource = maxN(m.lowSource, min(atts.map((a) => a.source)));
        m.lowTarget = maxN(m.lowTarget, min(atts.map((a) => a.target)));
      }
    }
  }

  /**
   * Pruning as documented (docs, pruning.ts): keep `keep` epochs below the highest; the block and target
   * watermarks move up to the nearest record kept; the source watermark rises to the highest source of
   * any record at or below the new target watermark (defect 8: those records forbid surrounding votes).
   */
  prune(keep: bigint, slotsPerEpoch: bigint): void {
    for (const m of this.keys.values()) {
      if (m.lowSlot !== null && m.blocks.length > 0) {
        const maxSlot = max(m.blocks.map((b) => b.slot));
        const span = keep * slotsPerEpoch;
        if (maxSlot + 1n > span) {
          const nearest = min(m.blocks.map((b) => b.slot).filter((x) => x >= maxSlot + 1n - span));
          if (nearest > m.lowSlot) m.lowSlot = nearest;
        }
      }
      if (m.lowTarget !== null && m.lowSource !== null) {
        if (m.atts.length > 0) {
          const maxTarget = max(m.atts.map((a) => a.target));
          if (maxTarget + 1n > keep) {
            const nearest = min(m.atts.map((a) => a.target).filter((x) => x >= maxTarget + 1n - keep));
            if (nearest > m.lowTarget) m.lowTarget = nearest;
          }
        }
        const lt = m.lowTarget;
        const below = m.atts.filter((a) => a.target <= lt).map((a) => a.source);
        if (below.length > 0) m.lowSource = maxN(m.lowSource, max(below));
      }
    }
  }

  /**
   * Export and re-import into a fresh database: the importer's watermarks are the minima of what is
   * exported (records at or above the watermarks); where those would lower the source watermark, the
   * export carries one root-less record at (source watermark, target watermark), which this adds (it
   * forbids only what was forbidden already). Watermarks here stay: the fresh database must forbid all
   * that this one did.
   */
  migrate(): void {
    for (const m of this.keys.values()) {
      if (m.lowTarget === null || m.lowSource === null) continue;
      const lt = m.lowTarget;
      const exported = m.atts.filter((a) => a.target >= lt);
      const below = m.atts.filter((a) => a.target <= lt).map((a) => a.source);
      const ls = below.length > 0 ? maxN(m.lowSource, max(below))! : m.lowSource;
      const needed =
        exported.length === 0 ||
        (min(exported.map((a) => a.source)) < ls && !exported.some((a) => a.target === lt && a.source >= ls));
      if (needed) m.atts.push({ source: ls, target: lt, root: null });
    }
  }
}

function min(xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b < a ? b : a));
}
function max(xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b > a ? b : a));
}
function maxN(a: bigint | null, b: bigint): bigint {
  return a === null || b > a ? b : a;
}
