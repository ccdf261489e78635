import type { AttestationState, BlockState } from "../../chains/ethereum/protectionTypes.js";

export interface Behind {
  released: bigint;
  stored: bigint | null;
}

/**
 * The highest slot and target this process has released per key (after their records committed). A
 * store that later holds less for a key went backwards: its newest records were lost, e.g. an
 * asynchronous standby promoted without them, or a restore from backup. Deciding against that older
 * history could sign a conflicting twin of a released signature, so such a key stops signing in this
 * process (issue 17, "a database that went backwards is detected").
 */
export class ReleasedPositions {
  private readonly slots = new Map<number, bigint>();
  private readonly targets = new Map<number, bigint>();
  /** Keys found behind (`block:ID`, `attestation:ID`): they stay stopped until the process restarts. */
  private readonly stopped = new Map<string, Behind>();

  noteBlock(id: number, slot: bigint): void {
    const prev = this.slots.get(id);
    if (prev === undefined || slot > prev) this.slots.set(id, slot);
  }

  noteTarget(id: number, target: bigint): void {
    const prev = this.targets.get(id);
    if (prev === undefined || target > prev) this.targets.set(id, target);
  }

  /** Whether the store's state for the key is behind what was released; once behind, always behind. */
  blockBehind(id: number, s: BlockState): Behind | null {
    return this.check(`block:${id}`, this.slots.get(id), maxOf(s.maxSlot, s.lowSlot));
  }

  attestationBehind(id: number, s: AttestationState): Behind | null {
    return this.check(`attestation:${id}`, this.targets.get(id), maxOf(s.maxTarget, s.lowTarget));
  }

  /** Keys stopped so far (for the log and status). */
  get stoppedKeys(): number {
    return this.stopped.size;
  }

  private check(key: string, released: bigint | undefined, stored: bigint | null): Behind | null {
    const known = this.stopped.get(key);
    if (known !== undefined) return known;
    if (released === undefined || (stored !== null && stored >= released)) return null;
    const behind = { released, stored };
    this.stopped.set(key, behind);
    return behind;
  }
}

function maxOf(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
