/** The code of an error (AppError and driver errors), or its text. */
export function codeOf(e: unknown): string {
  const c = (e as { code?: unknown })?.code;
  return typeof c === "string" ? c : String(e);
}

/** A model-based property that does not hold, with the command index for the report. */
export class ModelViolation extends Error {
  constructor(kind: "SAFETY" | "LIVENESS" | "ERROR-RELEASE" | "UNEXPECTED", step: number, detail: string) {
    super(`${kind} violation at command ${step}: ${detail}`);
  }
}

/** JSON with bigints and bytes readable. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString("hex").slice(-4) : x,
  );
}
