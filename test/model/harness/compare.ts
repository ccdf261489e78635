import type { RunStats } from "./config.js";
import { codeOf, ModelViolation, show } from "./errors.js";
import type { Settled } from "./worlds.js";

/** What the model says about one request: allowed with an outcome, or refused (the rules it breaks). */
export type Decision = { allow: string } | { refuse: string[] };

/** The engine's answer: released with an outcome, or an error code. */
export type Answer = { ok: true; outcome: string } | { ok: false; code: string };

export function answerOf(s: Settled<unknown>, outcome: (v: unknown) => string): Answer {
  return s.ok ? { ok: true, outcome: outcome(s.value) } : { ok: false, code: codeOf(s.error) };
}

/**
 * Why the engine's answer breaks a property, or null. Safety: never released where the model refuses.
 * Liveness: released where the model allows (with the same outcome), refused only with a typed
 * refusal (`isRefusal`) the model also gives. Anything else (a store error with no fault) is unexpected.
 */
export function mismatch(d: Decision, a: Answer, isRefusal: (code: string) => boolean): string | null {
  if (a.ok) {
    if ("refuse" in d) return `SAFETY: released (${a.outcome}) what the model refuses (${d.refuse.join(",")})`;
    return a.outcome === d.allow ? null : `outcome ${a.outcome}, model ${d.allow}`;
  }
  if (!isRefusal(a.code)) return `unexpected error ${a.code}`;
  if ("allow" in d) return `LIVENESS: refused (${a.code}) what the model allows (${d.allow})`;
  return null;
}

/** Throws a ModelViolation for the first request whose answer breaks a property. */
export function expectAgree(
  step: number,
  items: readonly { what: unknown; d: Decision; a: Answer }[],
  isRefusal: (code: string) => boolean,
  stats: RunStats,
): void {
  for (const { what, d, a } of items) {
    stats.requests++;
    if (a.ok) stats.allowed++;
    else stats.refused++;
    const why = mismatch(d, a, isRefusal);
    if (why !== null) {
      const kind = why.startsWith("SAFETY") ? "SAFETY" : why.startsWith("LIVENESS") ? "LIVENESS" : "UNEXPECTED";
      throw new ModelViolation(kind, step, `${why}; request ${show(what)}; model ${show(d)}`);
    }
  }
}

/** An injected failure must fail every request of the batch it hit: an error never releases a signature. */
export function expectAllFailed(step: number, answers: readonly Answer[], stats: RunStats): void {
  stats.faults++;
  stats.requests += answers.length;
  stats.refused += answers.length;
  const released = answers.find((a) => a.ok);
  if (released !== undefined)
    throw new ModelViolation("ERROR-RELEASE", step, `a request of a failed batch was answered ${show(released)}`);
}

/**
 * Requests sent at once to two instances: each instance decides its share in one transaction, and two
 * transactions that share a key run one after the other, so the answers must be those of one of the two
 * orders. Returns the order (0: instance 0 first) whose model decisions agree with every answer.
 */
export function pickOrder<M extends { clone(): M }>(
  model: M,
  reqs: readonly { inst: 0 | 1; req: unknown }[],
  answers: readonly Answer[],
  apply: (m: M, req: unknown) => Decision,
  isRefusal: (code: string) => boolean,
): { model: M; problems: null } | { model: null; problems: string[] } {
  const problems: string[] = [];
  for (const first of [0, 1] as const) {
    const m = model.clone();
    const decisions = new Array<Decision>(reqs.length);
    for (const inst of [first, 1 - first]) {
      reqs.forEach((r, i) => {
        if (r.inst === inst) decisions[i] = apply(m, r.req);
      });
    }
    const bad = reqs
      .map((r, i) => {
        const why = mismatch(decisions[i]!, answers[i]!, isRefusal);
        return why === null ? null : `#${i} inst ${r.inst} ${show(r.req)}: ${why}`;
      })
      .filter((x) => x !== null);
    if (bad.length === 0) return { model: m, problems: null };
    problems.push(`instance ${first} first: ${bad.join("; ")}`);
  }
  return { model: null, problems };
}
