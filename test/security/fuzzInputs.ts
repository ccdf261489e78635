import fc from "fast-check";

/**
 * Hostile inputs for the security fuzz (test/security/*Fuzz.test.ts): bodies that are malformed, oversized,
 * deeply nested, of the wrong type, or a valid document with one required field made invalid (non-canonical
 * numbers, wrong hex, wrong types) and other fields shaken at random.
 */

/** Run count of each fuzz property: fixed in CI; SLASHGUARD_FUZZ_RUNS runs more (or fewer). */
export function fuzzRuns(ciDefault: number): number {
  const v = process.env.SLASHGUARD_FUZZ_RUNS;
  return v === undefined || !/^[1-9][0-9]*$/.test(v) ? ciDefault : Number(v);
}

/** The seed of every property (printed; SLASHGUARD_FUZZ_SEED replays one). */
export function fuzzSeed(): number {
  const v = process.env.SLASHGUARD_FUZZ_SEED;
  return v === undefined || !/^-?[0-9]+$/.test(v) ? 20261207 : Number(v);
}

export const TWO_64 = "18446744073709551616";

/** Decimal u64 texts that are not canonical: each must be refused, never wrapped or rounded. */
export const BAD_DECIMALS: readonly unknown[] = [
  TWO_64,
  "99999999999999999999999",
  "-1",
  "+5",
  "05",
  "0x10",
  " 5",
  "5 ",
  "1e3",
  "1.0",
  "",
  "٣", // an Arabic-Indic digit
  // (a JSON number that is an exact integer up to 2^53-1 is accepted, as Web3Signer's examples use them)
  5.5,
  2 ** 53,
  -1,
  1e300,
  null,
  true,
  [],
  {},
  ["5"],
];

/** Hex texts of the wrong form: odd length, no prefix, non-hex, upper-case prefix, wrong type. */
export const BAD_HEX: readonly unknown[] = ["0x1", "0xzz", "abcd", "0X00", "0x", "0x0g", 12, null, [], {}, false];

/** A value of another JSON type than `v` (or an invalid one of its own). */
export function wrongValue(v: unknown, r: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (typeof v === "string" && /^(0|[1-9][0-9]*)$/.test(v)) return pick(BAD_DECIMALS);
  if (typeof v === "string" && /^0x[0-9a-f]*$/.test(v)) return pick([...BAD_HEX, `${v}00`, v.slice(0, -2)]);
  if (typeof v === "string") return pick([7, null, [], {}, true]);
  if (typeof v === "number") return pick(["7", null, [], {}, true, -1, 1e300]);
  if (typeof v === "boolean") return pick(["true", 1, null, [], {}]);
  return pick(["x", 7, null]);
}

/** Every path to a leaf (string, number, boolean) of a JSON document. */
export function leafPaths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leafPaths(x, [...at, i]));
  if (v !== null && typeof v === "object")
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leafPaths(x, [...at, k]));
  return v === null ? [] : [at];
}

export function getAt(v: unknown, path: readonly (string | number)[]): unknown {
  let o = v as any;
  for (const k of path) o = o?.[k];
  return o;
}

/** A copy of `v` with `path` set to `value` (parents that are no longer objects are left: already invalid). */
export function setAt(v: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(v) as any;
  let o = copy;
  for (const k of path.slice(0, -1)) {
    if (o === null || typeof o !== "object") return copy;
    o = o[k];
  }
  if (o !== null && typeof o === "object") o[path[path.length - 1]!] = value;
  return copy;
}

/** Nested arrays/objects `depth` levels deep, as JSON text. */
export function deepJson(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}0${"}".repeat(depth)}`;
}

/** A raw body and its content type (`oversize`: that many bytes, made when sent, kept out of fast-check's reports). */
export interface RawBody {
  kind: string;
  contentType: string | null;
  body: string | Uint8Array | null;
  oversize?: number;
}

const json = (kind: string, v: unknown): RawBody => ({
  kind,
  contentType: "application/json",
  body: JSON.stringify(v),
});

/**
 * Bodies any JSON route must refuse, whatever it expects: not JSON, truncated JSON, duplicate-key tricks,
 * prototype poisoning, too deep, too large, a JSON value of the wrong type, or the wrong content type.
 */
export function hostileBody(opts: { oversizeBytes: number }): fc.Arbitrary<RawBody> {
  return fc.oneof(
    fc.string({ maxLength: 200 }).map((s) => ({ kind: "text", contentType: "application/json", body: `{${s}` })),
    fc
      .uint8Array({ maxLength: 300 })
      .map((b) => ({ kind: "bytes", contentType: "application/json", body: b }) as RawBody),
    fc
      .constantFrom(
        '{"a":',
        "[1,2",
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"x":1}}}',
        "\uFEFF{}",
        "NaN",
        "[1e999999]",
        '{"a":"\\ud800"}',
        "",
        "   ",
      )
      .map((body) => ({ kind: "literal", contentType: "application/json", body })),
    fc
      .record({
        depth: fc.integer({ min: 65, max: 200_000 }),
        kind: fc.constantFrom("array" as const, "object" as const),
      })
      .map(({ depth, kind }) => ({ kind: "deep", contentType: "application/json", body: deepJson(depth, kind) })),
    fc.constant({ kind: "oversize", contentType: "application/json", body: null, oversize: opts.oversizeBytes }),
    fc
      .oneof(fc.constant(null), fc.boolean(), fc.double(), fc.string(), fc.array(fc.integer(), { maxLength: 5 }))
      .map((v) => json("scalar", v)),
    fc
      .tuple(
        fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"),
        fc.string({ maxLength: 50 }),
      )
      .map(([contentType, body]) => ({ kind: "content-type", contentType, body })),
  );
}

/** A seed document with random members shaken and one required member (`required`) made invalid. */
export function brokenDocument(
  seeds: readonly { doc: unknown; required: readonly (string | number)[][] }[],
): fc.Arbitrary<RawBody> {
  return fc
    .record({ seed: fc.nat(), i: fc.nat(), shake: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }) })
    .map(({ seed, i, shake }) => {
      const r = lcg(seed);
      const s = seeds[i % seeds.length]!;
      let doc = s.doc;
      // shake: a few leaves anywhere get another value (they may become valid again: the forced one below stays)
      const leaves = leafPaths(doc);
      for (const [a, b] of shake) {
        const p = leaves[a % Math.max(1, leaves.length)];
        if (p !== undefined && b % 2 === 0) doc = setAt(doc, p, wrongValue(getAt(doc, p), r));
      }
      const req = s.required[Math.floor(r() * s.required.length)]!;
      doc = setAt(doc, req, r() < 0.1 ? undefined : wrongValue(getAt(s.doc, req), r));
      return json("broken", doc);
    });
}

/** A small seeded generator for choices inside one fast-check value (reproducible from it). */
export function lcg(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
}
