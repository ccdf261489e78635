import { describe, expect, it } from "vitest";
import { type JsonHandler, JsonStreamError, JsonTokenizer, parseJson } from "../../../src/util/jsonStream.js";

/** Rebuilds a value from tokenizer events (numbers through Number for comparison with JSON.parse). */
function parseStreaming(text: string, cuts: number[]): unknown {
  const stack: { v: unknown; key: string | null }[] = [];
  let root: unknown;
  let done = false;
  const put = (v: unknown): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = v;
      done = true;
    } else if (Array.isArray(top.v)) top.v.push(v);
    else (top.v as Record<string, unknown>)[top.key!] = v;
  };
  const h: JsonHandler = {
    startObject: () => stack.push({ v: {}, key: null }),
    startArray: () => stack.push({ v: [], key: null }),
    endObject: () => put(stack.pop()!.v),
    endArray: () => put(stack.pop()!.v),
    key: (k) => {
      stack[stack.length - 1]!.key = k;
    },
    value: (v, kind) => put(kind === "number" ? Number(v) : v),
  };
  const t = new JsonTokenizer(h, { maxTokenLength: 1 << 20 });
  let prev = 0;
  for (const c of [...cuts, text.length]) {
    t.write(text.slice(prev, c));
    prev = c;
  }
  t.end();
  expect(done).toBe(true);
  return root;
}

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function randomValue(r: (n: number) => number, depth: number): unknown {
  const k = r(depth > 3 ? 5 : 7);
  if (k === 0) return null;
  if (k === 1) return r(2) === 0;
  if (k === 2) return (r(2000000) - 1000000) / (r(3) === 0 ? 7 : 1);
  if (k === 3 || k === 4) {
    const chars = ["a", "Z", '"', "\\", "\n", "é", "€", "😀", " ", "\u0001", "/"];
    return Array.from({ length: r(12) }, () => chars[r(chars.length)]).join("");
  }
  if (k === 5) return Array.from({ length: r(5) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < r(5); i++) o[`k${r(100)}`] = randomValue(r, depth + 1);
  return o;
}

describe("JsonTokenizer", () => {
  it("agrees with JSON.parse on random documents cut at random places", () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      const v = { doc: randomValue(r, 0) };
      const text = JSON.stringify(v, null, r(2) === 0 ? 2 : undefined);
      const cuts = Array.from({ length: r(6) }, () => r(text.length + 1)).sort((a, b) => a - b);
      expect(parseStreaming(text, cuts)).toEqual(JSON.parse(text));
    }
  });

  it("never throws anything but a typed error on mutated input, and rejects what JSON.parse rejects", () => {
    const r = rng(7);
    const alphabet = '{}[]:,"\\ 0123456789-.eEtruefalsn\n';
    for (let i = 0; i < 3000; i++) {
      let text = JSON.stringify(randomValue(r, 0));
      for (let m = 0; m < 1 + r(3); m++) {
        const at = r(text.length + 1);
        const op = r(3);
        if (op === 0) text = text.slice(0, at) + text.slice(at + 1);
        else if (op === 1) text = text.slice(0, at) + alphabet[r(alphabet.length)] + text.slice(at);
        else text = text.slice(0, at);
      }
      let expected: unknown;
      let valid = true;
      try {
        expected = JSON.parse(text);
      } catch {
        valid = false;
      }
      let got: unknown;
      try {
        got = parseStreaming(text, [r(text.length + 1)].sort());
      } catch (e) {
        if (!(e instanceof JsonStreamError)) {
          // vitest's expect inside parseStreaming throws AssertionError only for "done" checks
          expect(e).toBeInstanceOf(JsonStreamError);
        }
        expect(valid, `accepted by JSON.parse but refused: ${JSON.stringify(text)}`).toBe(false);
        continue;
      }
      expect(valid, `refused by JSON.parse but accepted: ${JSON.stringify(text)}`).toBe(true);
      expect(got).toEqual(expected);
    }
  });

  it("reports truncation and oversized tokens with their own codes", () => {
    const h: JsonHandler = {
      startObject() {},
      endObject() {},
      startArray() {},
      endArray() {},
      key() {},
      value() {},
    };
    const t = new JsonTokenizer(h);
    t.write('{"a": [1, 2');
    expect(() => t.end()).toThrow(expect.objectContaining({ code: "ERR_JSON_TRUNCATED" }));
    const small = new JsonTokenizer(h, { maxTokenLength: 10 });
    expect(() => small.write(`"${"x".repeat(100)}`)).toThrow(expect.objectContaining({ code: "ERR_JSON_LIMIT" }));
    const shallow = new JsonTokenizer(h, { maxDepth: 3 });
    expect(() => shallow.write("[[[[1]]]]")).toThrow(expect.objectContaining({ code: "ERR_JSON_LIMIT" }));
  });
});

/** A JSON object written as a list of members, so that a document may name one key twice. */
type Doc = null | boolean | number | string | Doc[] | { members: [string, Doc][] };

function randomDoc(r: (n: number) => number, depth: number, dupChance: number): Doc {
  const k = r(depth > 3 ? 5 : 7);
  if (k === 0) return null;
  if (k === 1) return r(2) === 0;
  if (k === 2) return r(1000) - 500;
  if (k === 3 || k === 4) return ["a", "b", "k1", "é", "\u0000x"][r(5)]!;
  if (k === 5) return Array.from({ length: r(4) }, () => randomDoc(r, depth + 1, dupChance));
  const members: [string, Doc][] = [];
  for (let i = 0; i < r(5); i++) {
    const key =
      members.length > 0 && r(1000) < dupChance
        ? members[r(members.length)]![0]
        : ["a", "b", "c", "k1", "é", "\u0000"][r(6)]!;
    members.push([key, randomDoc(r, depth + 1, dupChance)]);
  }
  return { members };
}

/** Writes a Doc as JSON text; a key is sometimes spelled with escapes (the same key for JSON). */
function writeDoc(d: Doc, r: (n: number) => number): string {
  if (d === null || typeof d !== "object") return JSON.stringify(d);
  if (Array.isArray(d)) return `[${d.map((x) => writeDoc(x, r)).join(",")}]`;
  const key = (k: string): string =>
    r(3) === 0
      ? `"${[...k].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"`
      : JSON.stringify(k);
  return `{${d.members.map(([k, v]) => `${key(k)}:${writeDoc(v, r)}`).join(r(2) === 0 ? "," : " ,\n ")}}`;
}

/** The reference: does any object of the document name a key twice? */
function hasDuplicateKey(d: Doc): boolean {
  if (d === null || typeof d !== "object") return false;
  if (Array.isArray(d)) return d.some(hasDuplicateKey);
  const keys = d.members.map(([k]) => k);
  return new Set(keys).size !== keys.length || d.members.some(([, v]) => hasDuplicateKey(v));
}

describe("JsonTokenizer: duplicate keys", () => {
  it("refuses a key named twice in one object (ERR_JSON_DUPLICATE_KEY), at any depth, however the text is cut", () => {
    const r = rng(2024);
    let withDup = 0;
    for (let i = 0; i < 4000; i++) {
      const doc = randomDoc(r, 0, 300);
      const text = writeDoc({ members: [["doc", doc]] }, r);
      const cuts = Array.from({ length: r(6) }, () => r(text.length + 1)).sort((a, b) => a - b);
      const dup = hasDuplicateKey(doc);
      if (dup) withDup++;
      let code: string | null = null;
      let got: unknown;
      try {
        got = parseStreaming(text, cuts);
      } catch (e) {
        expect(e).toBeInstanceOf(JsonStreamError);
        code = (e as JsonStreamError).code;
      }
      if (dup) expect(code, text).toBe("ERR_JSON_DUPLICATE_KEY");
      else {
        expect(code, text).toBe(null);
        expect(got).toEqual(JSON.parse(text));
      }
    }
    expect(withDup).toBeGreaterThan(100); // the generator does produce duplicates (176 with this seed)
  });

  it("keys of sibling and nested objects are separate", () => {
    expect(parseStreaming('{"a":{"a":1},"b":[{"a":1},{"a":2}]}', [])).toEqual({ a: { a: 1 }, b: [{ a: 1 }, { a: 2 }] });
    expect(() => parseStreaming('{"a":1,"\\u0061":2}', [])).toThrow(
      expect.objectContaining({ code: "ERR_JSON_DUPLICATE_KEY" }),
    );
  });
});

describe("parseJson (whole documents, strict)", () => {
  it("equals JSON.parse on documents without duplicate keys and refuses duplicates", () => {
    const r = rng(99);
    for (let i = 0; i < 1000; i++) {
      const doc = randomDoc(r, 0, 100);
      const text = writeDoc(doc, r);
      if (hasDuplicateKey(doc))
        expect(() => parseJson(text)).toThrow(expect.objectContaining({ code: "ERR_JSON_DUPLICATE_KEY" }));
      else expect(parseJson(text)).toEqual(JSON.parse(text));
    }
  });

  it("keeps __proto__ as an ordinary key (no prototype pollution)", () => {
    const v = parseJson('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["__proto__", "a"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });
});
