import { BadRequestError } from "../../../util/errors.js";

/** A time given as ISO 8601 or unix milliseconds. */
export function parseTime(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === "string") {
    if (/^[0-9]{1,16}$/.test(v)) return Number(v);
    if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
  }
  throw new BadRequestError(`${field} must be an ISO 8601 time or unix milliseconds`, field);
}

export function optTime(v: unknown, field: string): number | undefined {
  return v === undefined || v === "" ? undefined : parseTime(v, field);
}

export function parseId(v: unknown, field = "id"): number {
  if (typeof v !== "string" || !/^[1-9][0-9]{0,14}$/.test(v))
    throw new BadRequestError(`${field} must be a positive integer`, field);
  return Number(v);
}

export function parseLimit(v: unknown, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "string" || !/^[1-9][0-9]{0,5}$/.test(v))
    throw new BadRequestError("limit must be a positive integer", "limit");
  return Math.min(max, Number(v));
}

export function optString(v: unknown, field: string, re: RegExp): string | undefined {
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string" || !re.test(v)) throw new BadRequestError(`${field} is malformed`, field);
  return v;
}

/** Body fields of an alert action: who (defaults to the token's owner) and an optional note. */
export function actionBody(
  body: unknown,
  owner: string,
): { by: string; note: string | null; raw: Record<string, unknown> } {
  const o = body === undefined || body === null ? {} : body;
  if (typeof o !== "object" || Array.isArray(o)) throw new BadRequestError("body must be a JSON object");
  const r = o as Record<string, unknown>;
  const by = r.by === undefined ? owner : r.by;
  if (typeof by !== "string" || by.length === 0 || by.length > 100)
    throw new BadRequestError("by must be a name", "by");
  const note = r.note === undefined || r.note === null ? null : r.note;
  if (note !== null && (typeof note !== "string" || note.length > 1000))
    throw new BadRequestError("note must be text", "note");
  // The owner is always recorded: a name given in the body is what the person typed, not proof.
  return { by: by === owner ? owner : `${owner}/${by}`, note, raw: r };
}

export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
