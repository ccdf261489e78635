/**
 * Base of every typed error in slashguard. `type` is a discriminated union keyed by `code`
 * (`ERR_<DOMAIN>_<REASON>`), so callers and tests branch on the code, never on the message.
 */
export class AppError<T extends { code: string } = { code: string }> extends Error {
  readonly type: T;

  constructor(type: T, message?: string) {
    super(message ?? type.code);
    this.type = type;
    this.name = new.target.name;
  }

  get code(): T["code"] {
    return this.type.code;
  }

  /** JSON-safe view for logs and API bodies (bigint -> decimal string, bytes -> hex). */
  toObject(): Record<string, unknown> {
    return { code: this.type.code, message: this.message, ...jsonSafe(this.type) };
  }
}

/** Errors of the util layer and of generic input handling. */
export enum CommonErrorCode {
  BadRequest = "ERR_BAD_REQUEST",
  Internal = "ERR_INTERNAL",
  /** The process is stopping: the request was not decided (nothing recorded, nothing signed); retry elsewhere. */
  ShuttingDown = "ERR_SHUTTING_DOWN",
}

export class BadRequestError extends AppError<{ code: CommonErrorCode.BadRequest; field?: string }> {
  constructor(message: string, field?: string) {
    super(
      field === undefined ? { code: CommonErrorCode.BadRequest } : { code: CommonErrorCode.BadRequest, field },
      message,
    );
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Converts bigint and Uint8Array values (deeply) so the result survives JSON.stringify. */
export function jsonSafe(value: unknown): Record<string, unknown> {
  const out = convert(value);
  return typeof out === "object" && out !== null && !Array.isArray(out)
    ? (out as Record<string, unknown>)
    : { value: out };
}

function convert(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return `0x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
  if (Array.isArray(v)) return v.map(convert);
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = convert(x);
    return o;
  }
  return v;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
