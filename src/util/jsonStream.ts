import { AppError } from "./errors.js";

/** Receives the tokens of a JSON document as they are read (SAX style), so a file never sits in memory. */
export interface JsonHandler {
  startObject(): void;
  endObject(): void;
  startArray(): void;
  endArray(): void;
  key(name: string): void;
  /** A primitive value; numbers arrive as their source text so no precision is lost. */
  value(v: string | boolean | null, kind: "string" | "number" | "literal"): void;
}

export enum JsonStreamErrorCode {
  Syntax = "ERR_JSON_SYNTAX",
  Truncated = "ERR_JSON_TRUNCATED",
  TooLarge = "ERR_JSON_LIMIT",
  /** One object names a key twice: parsers disagree on which value counts, so no reading is trusted. */
  DuplicateKey = "ERR_JSON_DUPLICATE_KEY",
}

export class JsonStreamError extends AppError<{ code: JsonStreamErrorCode; offset: number }> {}

export interface JsonTokenizerLimits {
  /** Longest string, key or number in characters (a hostile file cannot make us buffer more). */
  maxTokenLength: number;
  maxDepth: number;
  /** Most keys in one object (the keys of every open object are kept to find duplicates). */
  maxKeysPerObject: number;
}

enum S {
  Value,
  FirstKeyOrEnd,
  Key,
  Colon,
  CommaOrEnd,
  FirstValueOrEnd,
  Done,
}

const NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** Incremental JSON tokenizer (RFC 8259), fed with text chunks of any size. */
export class JsonTokenizer {
  private state: S = S.Value;
  /** true = object, false = array */
  private readonly stack: boolean[] = [];
  /** The keys read so far in each open object (null for arrays): a key named twice is an error. */
  private readonly keys: (Set<string> | null)[] = [];
  private carry = "";
  private offset = 0;
  private readonly limits: JsonTokenizerLimits;

  constructor(
    private readonly h: JsonHandler,
    limits: Partial<JsonTokenizerLimits> = {},
  ) {
    this.limits = { maxTokenLength: 1 << 16, maxDepth: 64, maxKeysPerObject: 1 << 16, ...limits };
  }

  /** Characters consumed so far (for progress and error positions). */
  get position(): number {
    return this.offset;
  }

  write(chunk: string): void {
    const s = this.carry.length > 0 ? this.carry + chunk : chunk;
    const base = this.offset - this.carry.length;
    this.carry = "";
    const n = s.length;
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        i++;
        continue;
      }
      switch (this.state) {
        case S.Done:
          throw this.err(JsonStreamErrorCode.Syntax, base + i, "unexpected data after the document");
        case S.Colon:
          if (c !== 0x3a) throw this.err(JsonStreamErrorCode.Syntax, base + i, "expected ':'");
          this.state = S.Value;
          i++;
          continue;
        case S.CommaOrEnd:
          if (c === 0x2c) {
            this.state = this.stack[this.stack.length - 1] ? S.Key : S.Value;
            i++;
            continue;
          }
          if (c === 0x7d || c === 0x5d) {
            this.close(c, base + i);
            i++;
            continue;
          }
          throw this.err(JsonStreamErrorCode.Syntax, base + i, "expected ',' or the end of a container");
        case S.FirstKeyOrEnd:
        case S.Key: {
          if (c === 0x7d && this.state === S.FirstKeyOrEnd) {
            this.close(c, base + i);
            i++;
            continue;
          }
          if (c !== 0x22) throw this.err(JsonStreamErrorCode.Syntax, base + i, "expected a key string");
          const end = this.scanString(s, i, base);
          if (end < 0) {
            this.keep(s, i, base);
            this.advance(base, n);
            return;
          }
          this.h.key(this.newKey(decodeString(s, i + 1, end, base + i, this), base + i));
          this.state = S.Colon;
          i = end + 1;
          continue;
        }
        case S.FirstValueOrEnd:
          if (c === 0x5d) {
            this.close(c, base + i);
            i++;
          } else {
            this.state = S.Value; // any value may start here: read it on the next turn
          }
          continue;
        case S.Value: {
          if (c === 0x7b || c === 0x5b) {
            if (this.stack.length >= this.limits.maxDepth)
              throw this.err(JsonStreamErrorCode.TooLarge, base + i, "nesting too deep");
            const isObj = c === 0x7b;
            this.stack.push(isObj);
            this.keys.push(isObj ? new Set() : null);
            if (isObj) this.h.startObject();
            else this.h.startArray();
            this.state = isObj ? S.FirstKeyOrEnd : S.FirstValueOrEnd;
            i++;
            continue;
          }
          if (c === 0x22) {
            const end = this.scanString(s, i, base);
            if (end < 0) {
              this.keep(s, i, base);
              this.advance(base, n);
              return;
            }
            this.h.value(decodeString(s, i + 1, end, base + i, this), "string");
            this.afterValue();
            i = end + 1;
            continue;
          }
          // number or literal: runs until a delimiter
          let j = i;
          while (j < n) {
            const d = s.charCodeAt(j);
            if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
            j++;
          }
          if (j === n) {
            this.keep(s, i, base);
            this.advance(base, n);
            return;
          }
          this.scalar(s.slice(i, j), base + i);
          i = j;
          continue;
        }
      }
    }
    this.advance(base, n);
  }

  /** Call at the end of input: a document cut short is an error, never a partial success. */
  end(): void {
    if (
      this.carry.length > 0 &&
      this.state !== S.Done &&
      (this.state === S.Value || this.state === S.FirstValueOrEnd)
    ) {
      const tok = this.carry;
      if (tok.charCodeAt(0) !== 0x22) {
        this.carry = "";
        this.scalar(tok, this.offset - tok.length);
      }
    }
    if (this.state !== S.Done || this.carry.length > 0) {
      throw this.err(JsonStreamErrorCode.Truncated, this.offset, "the document ends before it is complete");
    }
  }

  private advance(base: number, n: number): void {
    this.offset = base + n;
  }

  private keep(s: string, from: number, base: number): void {
    this.carry = s.slice(from);
    if (this.carry.length > this.limits.maxTokenLength)
      throw this.err(JsonStreamErrorCode.TooLarge, base + from, "token too long");
  }

  private scalar(tok: string, at: number): void {
    if (tok.length > this.limits.maxTokenLength) throw this.err(JsonStreamErrorCode.TooLarge, at, "token too long");
    if (tok === "true") this.h.value(true, "literal");
    else if (tok === "false") this.h.value(false, "literal");
    else if (tok === "null") this.h.value(null, "literal");
    else if (NUMBER_RE.test(tok)) this.h.value(tok, "number");
    else throw this.err(JsonStreamErrorCode.Syntax, at, `unexpected token '${tok.slice(0, 20)}'`);
    this.afterValue();
  }

  private afterValue(): void {
    this.state = this.stack.length === 0 ? S.Done : S.CommaOrEnd;
  }

  /** Records a key of the innermost object; throws if that object named it before. */
  private newKey(name: string, at: number): string {
    const seen = this.keys[this.keys.length - 1]!;
    if (seen.has(name)) {
      throw this.err(
        JsonStreamErrorCode.DuplicateKey,
        at,
        `key ${JSON.stringify(name.slice(0, 64))} appears twice in one object`,
      );
    }
    if (seen.size >= this.limits.maxKeysPerObject)
      throw this.err(JsonStreamErrorCode.TooLarge, at, "too many keys in one object");
    seen.add(name);
    return name;
  }

  private close(c: number, at: number): void {
    this.keys.pop();
    const isObj = this.stack.pop();
    if (isObj === undefined || isObj !== (c === 0x7d))
      throw this.err(JsonStreamErrorCode.Syntax, at, "mismatched bracket");
    if (isObj) this.h.endObject();
    else this.h.endArray();
    this.afterValue();
  }

  /** Index of the closing quote of the string starting at `start`, or -1 if it is not in this chunk. */
  private scanString(s: string, start: number, base: number): number {
    let j = start + 1;
    for (;;) {
      const q = s.indexOf('"', j);
      if (q < 0) return -1;
      // count backslashes before the quote
      let b = q - 1;
      while (b > start && s.charCodeAt(b) === 0x5c) b--;
      if ((q - 1 - b) % 2 === 0) {
        if (q - start > this.limits.maxTokenLength)
          throw this.err(JsonStreamErrorCode.TooLarge, base + start, "string too long");
        return q;
      }
      j = q + 1;
    }
  }

  /** @internal */
  err(code: JsonStreamErrorCode, offset: number, what: string): JsonStreamError {
    return new JsonStreamError({ code, offset }, `invalid JSON at character ${offset}: ${what}`);
  }
}

function decodeString(s: string, from: number, to: number, at: number, t: JsonTokenizer): string {
  const raw = s.slice(from, to);
  for (let k = 0; k < raw.length; k++) {
    const c = raw.charCodeAt(k);
    if (c < 0x20) throw t.err(JsonStreamErrorCode.Syntax, at + 1 + k, "control character in string");
    if (c === 0x5c) {
      try {
        return JSON.parse(`"${raw}"`) as string;
      } catch {
        throw t.err(JsonStreamErrorCode.Syntax, at, "bad escape in string");
      }
    }
  }
  return raw;
}

/**
 * JSON.parse for untrusted documents that must mean one thing: the same values, but a key named twice
 * in one object is ERR_JSON_DUPLICATE_KEY (JSON.parse keeps the last, other readers the first), and
 * `__proto__` stays an ordinary key. Errors are JsonStreamError.
 */
export function parseJson(text: string, limits: Partial<JsonTokenizerLimits> = {}): unknown {
  const stack: { v: Record<string, unknown> | unknown[]; key: string }[] = [];
  let root: unknown;
  const put = (v: unknown): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) root = v;
    else if (Array.isArray(top.v)) top.v.push(v);
    else Object.defineProperty(top.v, top.key, { value: v, enumerable: true, writable: true, configurable: true });
  };
  const t = new JsonTokenizer(
    {
      startObject: () => stack.push({ v: {}, key: "" }),
      startArray: () => stack.push({ v: [], key: "" }),
      endObject: () => put(stack.pop()!.v),
      endArray: () => put(stack.pop()!.v),
      key: (k) => {
        stack[stack.length - 1]!.key = k;
      },
      value: (v, kind) => put(kind === "number" ? Number(v) : v),
    },
    { maxTokenLength: Math.max(1 << 16, text.length), ...limits },
  );
  t.write(text);
  t.end();
  return root;
}
