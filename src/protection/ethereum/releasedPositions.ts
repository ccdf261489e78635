import type { AttestationState, BlockState } from "../../chains/ethereum/index.js";
import { maxBigOrNull } from "../../util/u64.js";
import { compareBigint, ReleasedPositions as Positions } from "../engine/releasedPositions.js";

export interface Behind {
  released: bigint;
  stored: bigint | null;
}

/**
 * The highest slot and target this process has released per key (the engine's ReleasedPositions, one
 * track per key and message kind): a store found behind them stops the key (ERR_PROTECTION_STORE_BEHIND).
 */
export class ReleasedPositions {
  // one track per key and kind, keyed by the key's store id (no string built per request)
  private readonly blocks = new Positions<bigint, number>(compareBigint);
  private readonly targets = new Positions<bigint, number>(compareBigint);

  noteBlock(id: number, slot: bigint): void {
    this.blocks.note(id, slot);
  }

  noteTarget(id: number, target: bigint): void {
    this.targets.note(id, target);
  }

  /** Whether the store's state for the key is behind what was released; once behind, always behind. */
  blockBehind(id: number, s: BlockState): Behind | null {
    return this.blocks.behind(id, maxBigOrNull(s.maxSlot, s.lowSlot));
  }

  attestationBehind(id: number, s: AttestationState): Behind | null {
    return this.targets.behind(id, maxBigOrNull(s.maxTarget, s.lowTarget));
  }

  /** Keys stopped so far (for the log and status). */
  get stoppedKeys(): number {
    return this.blocks.stoppedKeys + this.targets.stoppedKeys;
  }
}
