import { BadRequestError } from "../util/errors.js";
import type { Settled } from "../util/groupCommit.js";
import { U64_MAX } from "../util/u64.js";

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

/**
 * The first bigint field of `values` outside u64 (what both stores encode: SQLite shifted, PostgreSQL
 * NUMERIC(20)), as a typed error; else null. A range check: it runs for every request.
 */
export function badU64(values: object): BadRequestError | null {
  for (const field in values) {
    const v = (values as Record<string, unknown>)[field];
    if (typeof v === "bigint" && (v < 0n || v > U64_MAX))
      return new BadRequestError(`${field} is not an unsigned 64-bit integer`, field);
  }
  return null;
}
