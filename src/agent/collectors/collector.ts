import type { KeyWire, SourceWire } from "../../fleet/index.js";

export interface Collected {
  source: SourceWire;
  keys: KeyWire[];
}

/**
 * Reads what one local node signs with. `collect` never throws: a node that does not answer is
 * reported unreachable (with the keys known from disk), and the agent keeps going.
 */
export interface Collector {
  readonly id: string;
  collect(): Promise<Collected>;
}

export function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 300);
}
