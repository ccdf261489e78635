import type { Alert } from "../api/types.js";
import { percent } from "../format.js";

/**
 * Who reports an alert, in words: the hosts with the certainty of their observation (fleet alerts),
 * or the node / beacon sources named in the evidence (unreachable nodes, foreign signatures).
 */
export function sourcesOf(a: Alert): string[] {
  const out: string[] = [];
  const ev = a.evidence;
  const obs = ev.observations;
  if (Array.isArray(obs)) {
    for (const o of obs) {
      if (typeof o !== "object" || o === null) continue;
      const r = o as Record<string, unknown>;
      if (typeof r.host !== "string") continue;
      const bits = [
        typeof r.certainty === "number" ? `certainty ${percent(r.certainty)}` : null,
        r.stale === true ? "stale" : null,
      ];
      const extra = bits.filter((b) => b !== null).join(", ");
      out.push(extra === "" ? r.host : `${r.host} (${extra})`);
    }
  }
  for (const k of ["from", "to"] as const) {
    const r = ev[k] as Record<string, unknown> | undefined;
    if (typeof r === "object" && r !== null && typeof r.host === "string") out.push(`${k} ${r.host}`);
  }
  if (typeof ev.source === "string") out.push(ev.source);
  const sources = ev.sources;
  if (Array.isArray(sources)) for (const s of sources) if (typeof s === "string") out.push(s);
  return out;
}
