/**
 * Reference model of CometBFT double-sign protection (FilePV's rule as slashguard implements it), over
 * every message a key signed or had imported, per (chain id, key). A message is kept as its fields, so
 * "differs only in the timestamp" is a comparison of fields, not of bytes.
 */

export const STEP_PROPOSE = 1;

export interface MMsg {
  chain: number;
  key: number;
  height: bigint;
  round: number;
  /** FilePV step: 1 propose, 2 prevote, 3 precommit */
  step: number;
  block: "nil" | "A" | "B";
  /** timestamp choice (two values) */
  ts: number;
}

/** What the store holds after an import: a position, with or without the message (and its signature). */
export interface MEntry {
  height: bigint;
  round: number;
  step: number;
  /** null: imported without sign bytes or without a signature (a repeat cannot be answered) */
  msg: MMsg | null;
}

export type MDecision = { allow: "new" | "repeat" | "repeat-ts" } | { refuse: string[] };

export function compareHrs(a: { height: bigint; round: number; step: number }, b: typeof a): number {
  if (a.height !== b.height) return a.height < b.height ? -1 : 1;
  if (a.round !== b.round) return a.round - b.round;
  return a.step - b.step;
}

const slot = (chain: number, key: number): string => `${chain}/${key}`;

export class CometModel {
  readonly history = new Map<string, MEntry[]>();

  clone(): CometModel {
    const c = new CometModel();
    for (const [k, v] of this.history) c.history.set(k, [...v]);
    return c;
  }

  /** The highest position signed or imported (FilePV's last sign state), if any. */
  last(chain: number, key: number): MEntry | null {
    const h = this.history.get(slot(chain, key)) ?? [];
    return h.reduce<MEntry | null>((m, e) => (m === null || compareHrs(e, m) > 0 ? e : m), null);
  }

  decide(m: MMsg): MDecision {
    const last = this.last(m.chain, m.key);
    if (last === null) return { allow: "new" };
    const c = compareHrs(m, last);
    if (c > 0) return { allow: "new" };
    if (c < 0) {
      const code =
        m.height < last.height
          ? "ERR_COMETBFT_HEIGHT_REGRESSION"
          : m.round < last.round
            ? "ERR_COMETBFT_ROUND_REGRESSION"
            : "ERR_COMETBFT_STEP_REGRESSION";
      return { refuse: [code] };
    }
    if (last.msg === null) return { refuse: ["ERR_COMETBFT_NO_SIGN_BYTES"] };
    if (last.msg.block !== m.block) return { refuse: ["ERR_COMETBFT_CONFLICTING_DATA"] };
    return { allow: last.msg.ts === m.ts ? "repeat" : "repeat-ts" };
  }

  apply(m: MMsg): MDecision {
    const d = this.decide(m);
    if ("allow" in d && d.allow === "new")
      this.add(m.chain, m.key, { height: m.height, round: m.round, step: m.step, msg: m });
    return d;
  }

  /** An imported state applies only above the stored one (it is never lowered); returns whether it did. */
  import(chain: number, key: number, e: MEntry): boolean {
    const last = this.last(chain, key);
    if (compareHrs(e, last ?? { height: 0n, round: 0, step: 0 }) <= 0) return false;
    this.add(chain, key, e);
    return true;
  }

  private add(chain: number, key: number, e: MEntry): void {
    const k = slot(chain, key);
    this.history.set(k, [...(this.history.get(k) ?? []), e]);
  }
}
