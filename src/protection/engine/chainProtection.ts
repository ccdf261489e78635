import type { Settled } from "../../util/groupCommit.js";

/**
 * The one face of slashing protection for one chain (as lodestar's SlashingProtection): open it on a
 * store (the chain's `open`/constructor), decide batches of typed requests, switch keys off and on,
 * close. Status, import and export are functions over the store (src/protection/index.ts).
 *
 * `decide` resolves once every request of the batch is decided; a request is answered only after its
 * record is committed (record before release), refusals are the chain's typed errors.
 */
export interface ChainProtection<Req, Out, Key> {
  readonly chain: "ethereum" | "cometbft" | "substrate";
  decide(batch: readonly Req[]): Promise<Settled<Out>[]>;
  /**
   * Switches signing off (or back on) for these keys; a disabled key is refused with the chain's
   * KEY_DISABLED. CometBFT has no switch in its store (a key signs while it is configured).
   */
  setEnabled?(keys: readonly Key[], enabled: boolean): Promise<void>;
  /** Requests waiting for a decision (back-pressure signal for transports). */
  readonly pending: number;
  /** Waits until every accepted request is decided; takes no new ones. */
  close(): Promise<void>;
}

/** Decides each request on its own (they still share group-commit transactions) and settles them in order. */
export async function settleAll<Req, Out>(
  batch: readonly Req[],
  one: (req: Req) => Promise<Out>,
): Promise<Settled<Out>[]> {
  const settled = await Promise.allSettled(batch.map(one));
  return settled.map((r) => (r.status === "fulfilled" ? { ok: true, value: r.value } : { ok: false, error: r.reason }));
}
