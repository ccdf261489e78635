/** What a store found behind holds for a key against what this process released. */
export interface Behind<P> {
  released: P;
  stored: P | null;
}

/**
 * The highest position (slot, target, height/round/step, set/round…) this process has released per key
 * and track, after its record committed. A store that later holds less went backwards: its newest records
 * were lost, e.g. an asynchronous standby promoted without them, or a restore from backup. Deciding
 * against that older history could sign a conflicting twin of a released signature, so such a key stops
 * signing in this process until it restarts (issue 17). Every chain's rules use one per track.
 */
export class ReleasedPositions<P, T = string> {
  private readonly released = new Map<T, P>();
  /** Tracks found behind: they stay stopped until the process restarts. */
  private readonly stopped = new Map<T, Behind<P>>();

  constructor(private readonly compare: (a: P, b: P) => number) {}

  note(track: T, position: P): void {
    const prev = this.released.get(track);
    if (prev === undefined || this.compare(position, prev) > 0) this.released.set(track, position);
  }

  /** Whether the store's position for the track is behind what was released; once behind, always behind. */
  behind(track: T, stored: P | null): Behind<P> | null {
    const known = this.stopped.get(track);
    if (known !== undefined) return known;
    const released = this.released.get(track);
    if (released === undefined || (stored !== null && this.compare(stored, released) >= 0)) return null;
    const behind = { released, stored };
    this.stopped.set(track, behind);
    return behind;
  }

  /** Tracks stopped so far (for the log and status). */
  get stoppedKeys(): number {
    return this.stopped.size;
  }
}

export const compareBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
