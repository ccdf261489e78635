import { describe, expect, it } from "vitest";
import { checkJsonDepth, MAX_JSON_DEPTH } from "../../../src/util/jsonDepth.js";

const code = (text: string, max?: number): string | null => {
  try {
    checkJsonDepth(text, max);
    return null;
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe("checkJsonDepth", () => {
  it("counts objects and arrays together, up to the limit inclusive", () => {
    expect(code(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`)).toBeNull();
    expect(code(`${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`)).toBe("ERR_JSON_TOO_DEEP");
    expect(code('{"a":[{"b":[1]}]}', 4)).toBeNull();
    expect(code('{"a":[{"b":[[1]]}]}', 4)).toBe("ERR_JSON_TOO_DEEP");
    // siblings do not add up
    expect(code("[[1],[2],[3],[4],[5]]", 2)).toBeNull();
  });

  it("brackets inside strings, escaped quotes and backslashes are text", () => {
    expect(code('["[[[[", "\\"[[[[", "\\\\", "{{{{"]', 1)).toBeNull();
    // an escaped backslash ends before the quote: the string closes and the brackets after it count
    expect(code('["\\\\", [[1]]]', 2)).toBe("ERR_JSON_TOO_DEEP");
  });

  it("a hostile depth fails fast without recursion (no stack overflow)", () => {
    expect(code("[".repeat(5_000_000))).toBe("ERR_JSON_TOO_DEEP");
    expect(code('{"a":'.repeat(1_000_000))).toBe("ERR_JSON_TOO_DEEP");
  });
});
