import { StoreError, StoreErrorCode } from "./errors.js";

/**
 * Reads the text a `string_agg` statement returns: records separated by `;`, fields by `,`, an empty
 * field for NULL (the statement writes only digits and `t`/`f`). It walks the string once and builds no
 * substring for a short number, where splitting would make one string per field. Anything else than
 * the shape the caller expects throws: the decision batch then fails closed.
 */
export class TextFields {
  private pos = 0;
  private records = 0;

  constructor(private readonly s: string) {}

  /** Records read so far (each ended by `end()`). */
  get count(): number {
    return this.records;
  }

  /** Whether another record follows. */
  more(): boolean {
    return this.pos < this.s.length;
  }

  /** A `t`/`f` field, or false when empty. */
  flag(): boolean {
    const c = this.s.charCodeAt(this.pos);
    if (c === 0x74 /* t */ || c === 0x66 /* f */) {
      this.pos++;
      this.sep(",");
      return c === 0x74;
    }
    this.sep(",");
    return false;
  }

  /** An unsigned decimal field, or null when empty; the last field of a record passes `last`. */
  u64(last = false): bigint | null {
    const s = this.s;
    const start = this.pos;
    let n = 0;
    let i = start;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
    }
    this.pos = i;
    this.sep(last ? ";" : ",");
    if (i === start) return null;
    // up to 15 digits the double is exact; longer ones go through the string
    return i - start <= 15 ? BigInt(n) : BigInt(s.slice(start, i));
  }

  /** After a record's last field. */
  end(): void {
    this.records++;
  }

  /** Throws unless exactly `records` records were read and nothing follows. */
  expectEnd(records: number): void {
    if (this.records !== records || this.more()) this.bad();
  }

  private sep(want: "," | ";"): void {
    const s = this.s;
    if (this.pos >= s.length) {
      if (want === ";") return;
    } else if (s[this.pos] === want) {
      this.pos++;
      return;
    }
    this.bad();
  }

  private bad(): never {
    throw new StoreError(
      { code: StoreErrorCode.Unavailable, cause: `unexpected answer text at ${this.pos} (record ${this.records})` },
      "store error: the state read's answer has an unexpected shape",
    );
  }
}
