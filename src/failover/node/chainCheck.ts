import { signedBy } from "../../chains/cometbft/index.js";
import { errorMessage } from "../../util/errors.js";
import { RefusalReason, refused } from "../errors.js";
import type { Monotonic } from "../monotonic.js";
import type { ChainRpc } from "../peers/rpcClient.js";

export interface ChainCheckOptions {
  validatorAddress: string;
  /** K: consecutive new heights that must carry no signature of the validator. */
  heights: number;
  /** Give up (refuse) when the chain has not produced the heights by then. */
  timeoutMs: number;
  pollMs: number;
}

export interface ChainCheckModules {
  chain: ChainRpc;
  clock: Monotonic;
  sleep: (ms: number) => Promise<void>;
  /** Called before each poll; throws to abort (the caller lost its lease meanwhile). */
  assertContinue?: () => void;
}

export interface SilenceProof {
  /** First and last height checked; none of them carries a signature of the validator. */
  from: bigint;
  to: bigint;
}

/**
 * Watches the chain until K consecutive new heights have committed without any precommit (for the block or
 * nil) from the validator, and refuses as soon as one appears: then something still signs with the key.
 * The height in progress when the check starts is skipped: a node stopped a moment ago may have sent its
 * precommit for it, and that is not a sign of life. Only canonical commits count (the node's own "seen
 * commit" of its latest height may lack late votes).
 */
export async function waitForSilence(opts: ChainCheckOptions, m: ChainCheckModules): Promise<SilenceProof> {
  const deadline = m.clock.now() + opts.timeoutMs;
  const start = (await m.chain.status()).latestHeight;
  const from = start + 2n;
  const to = start + 1n + BigInt(opts.heights);
  let next = from;
  while (next <= to) {
    m.assertContinue?.();
    if (m.clock.now() > deadline) {
      throw refused(RefusalReason.ChainStalled, `chain check: reached height ${next - 1n} of ${to} before the timeout`);
    }
    let signedAt: bigint | null = null;
    try {
      const st = await m.chain.status();
      if (st.catchingUp) throw new Error("the node is catching up");
      while (next <= to && next < st.latestHeight) {
        const c = await m.chain.commit(next);
        if (!c.canonical) break;
        if (signedBy(c, opts.validatorAddress)) {
          signedAt = next;
          break;
        }
        next++;
      }
    } catch (e) {
      // an RPC hiccup is retried until the deadline; the check never passes on missing data
      if (m.clock.now() > deadline) throw refused(RefusalReason.ChainStalled, `chain check: ${errorMessage(e)}`);
    }
    if (signedAt !== null) {
      throw refused(RefusalReason.ChainSignatures, `the validator signed height ${signedAt}: another node still signs`);
    }
    if (next <= to) await m.sleep(opts.pollMs);
  }
  return { from, to };
}

/** The highest height at or below `from` (looking back `lookback` heights) that the validator signed. */
export async function lastSignedHeight(
  chain: ChainRpc,
  validatorAddress: string,
  from: bigint,
  lookback: number,
): Promise<bigint | null> {
  const floor = from - BigInt(lookback) + 1n;
  for (let h = from; h >= 1n && h >= floor; h--) {
    if (signedBy(await chain.commit(h), validatorAddress)) return h;
  }
  return null;
}
