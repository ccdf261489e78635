import { describe, expect, it } from "vitest";
import { type JsonHandler, JsonStreamError, JsonTokenizer } from "../../../src/util/jsonStream.js";

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
