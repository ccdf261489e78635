import type { SqlTx } from "../store/index.js";
import { BadRequestError } from "../util/errors.js";
import type { Settled } from "../util/groupCommit.js";

/**
 * Defence in depth for group commit: a request whose values cannot be stored fails alone with
 * ERR_BAD_REQUEST, and only the others are decided (in their order). The parsers refuse such input at
 * the edge; without this, one bad value reaching the store would fail every request of its batch at COMMIT.
 */
export async function decideStorable<I, R>(
  items: readonly I[],
  unstorable: (item: I) => BadRequestError | null,
  decide: (valid: I[]) => Promise<Settled<R>[]>,
): Promise<Settled<R>[]> {
  const results: Settled<R>[] = new Array(items.length);
  const valid: I[] = [];
  const at: number[] = [];
  items.forEach((it, i) => {
    const error = unstorable(it);
    if (error === null) {
      valid.push(it);
      at.push(i);
    } else results[i] = { ok: false, error };
  });
  const decided = valid.length === 0 ? [] : await decide(valid);
  decided.forEach((r, j) => {
    results[at[j]!] = r;
  });
  return results;
}

/** The first bigint field of `values` that the store cannot encode as a u64, as a typed error; else null. */
export function badU64(tx: SqlTx, values: object): BadRequestError | null {
  for (const [field, v] of Object.entries(values) as [string, unknown][]) {
    if (typeof v !== "bigint") continue;
    try {
      tx.u64(v);
    } catch {
      return new BadRequestError(`${field} is not an unsigned 64-bit integer`, field);
    }
  }
  return null;
}
