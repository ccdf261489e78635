import fc from "fast-check";
import type { Fault } from "../harness/faultyStore.js";
import { type MAtt, type MBlock, type MReq, U64_MAX } from "./ethModel.js";

/** Instance 0 or 1: two engines on one database. */
export type Inst = 0 | 1;

export type EthCmd =
  | { c: "sign"; inst: Inst; req: MReq }
  /** requests submitted at once to both instances (each instance decides its share in one batch) */
  | { c: "batch"; reqs: { inst: Inst; req: MReq }[] }
  /**
   * requests submitted at once to a third instance that decides at most two per batch: on PostgreSQL
   * its batches overlap (the next one's locks and read while the last one commits); the answers must be
   * the model's in arrival order
   */
  | { c: "stream"; reqs: MReq[] }
  | { c: "import"; inst: Inst; entries: { key: number; blocks: MBlock[]; atts: MAtt[] }[] }
  | { c: "prune"; inst: Inst; keep: bigint; slotsPerEpoch: bigint }
  /** export, re-import into a fresh database, continue there */
  | { c: "migrate" }
  /** close both instances and their stores, reopen */
  | { c: "restart" }
  /** the next write transaction of one instance fails while it decides these requests */
  | { c: "fault"; inst: Inst; fault: Fault; reqs: MReq[] };

export const KEYS = [1, 2, 3];

const inst = fc.constantFrom<Inst>(0, 1);
const key = fc.constantFrom(...KEYS);
/** Small numbers so that records collide and surround; now and then the u64 edges (and one past). */
const num = fc.oneof(
  { weight: 30, arbitrary: fc.bigInt(0n, 20n) },
  { weight: 1, arbitrary: fc.constantFrom(U64_MAX - 1n, U64_MAX, U64_MAX + 1n) },
);
const pair = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(num, fc.bigInt(0n, 4n)).map(([s, d]) => [s, s + d] as const) },
  { weight: 1, arbitrary: fc.tuple(num, num) },
);
const root = fc.integer({ min: 1, max: 3 });

export const req: fc.Arbitrary<MReq> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("block" as const), key, slot: num, root }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(key, pair, root)
      .map(([k, [s, t], r]) => ({ kind: "attestation" as const, key: k, source: s, target: t, root: r })),
  },
);

const small = fc.bigInt(0n, 20n);
const importRoot = fc.option(root, { freq: 4 });
const entry = fc.record({
  key,
  blocks: fc.array(fc.record({ slot: small, root: importRoot }), { maxLength: 3 }),
  atts: fc.array(
    fc.tuple(small, fc.bigInt(0n, 6n), importRoot).map(([s, d, r]) => ({ source: s, target: s + d, root: r })),
    { maxLength: 3 },
  ),
});

export function ethCommands(maxCommands: number): fc.Arbitrary<EthCmd[]> {
  const cmd: fc.Arbitrary<EthCmd> = fc.oneof(
    { weight: 12, arbitrary: fc.record({ c: fc.constant("sign" as const), inst, req }) },
    {
      weight: 4,
      arbitrary: fc.record({
        c: fc.constant("batch" as const),
        reqs: fc.array(fc.record({ inst, req }), { minLength: 2, maxLength: 8 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        c: fc.constant("stream" as const),
        reqs: fc.array(req, { minLength: 3, maxLength: 10 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        c: fc.constant("import" as const),
        inst,
        entries: fc.array(entry, { minLength: 1, maxLength: 2 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        c: fc.constant("prune" as const),
        inst,
        keep: fc.bigInt(1n, 6n),
        slotsPerEpoch: fc.bigInt(1n, 3n),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ c: "migrate" as const }) },
    { weight: 1, arbitrary: fc.constant({ c: "restart" as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        c: fc.constant("fault" as const),
        inst,
        fault: fc.constantFrom<Fault>("commit", "ack", "fsync"),
        reqs: fc.array(req, { minLength: 1, maxLength: 4 }),
      }),
    },
  );
  return fc.array(cmd, { minLength: 1, maxLength: maxCommands, size: "max" });
}
