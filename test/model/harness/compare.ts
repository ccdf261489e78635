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
 * Requests sent at once to two instances. Each instance decides its share in arrival order, and two
 * transactions that lock one key run one after the other, so per key the answers must be those of one
 * of the two orders (instance 0's requests first, or instance 1's); keys are independent. Returns the
 * model after the orders that agree with every answer, or what disagrees.
 */
export function pickOrder<M extends { clone(): M }>(
  model: M,
  reqs: readonly { inst: 0 | 1; req: unknown }[],
  answers: readonly Answer[],
  apply: (m: M, req: unknown) => Decision,
  isRefusal: (code: string) => boolean,
  lockOf: (req: unknown) => string,
): { model: M; problems: null } | { model: null; problems: string[] } {
  let current = model;
  for (const lock of new Set(reqs.map((r) => lockOf(r.req)))) {
    const problems: string[] = [];
    let found: M | null = null;
    for (const first of [0, 1] as const) {
      const m = current.clone();
      const bad: string[] = [];
      for (const inst of [first, 1 - first]) {
        reqs.forEach((r, i) => {
          if (r.inst !== inst || lockOf(r.req) !== lock) return;
          const why = mismatch(apply(m, r.req), answers[i]!, isRefusal);
          if (why !== null) bad.push(`#${i} inst ${r.inst} ${show(r.req)}: ${why}`);
        });
      }
      if (bad.length === 0) {
        found = m;
        break;
      }
      problems.push(`key ${lock}, instance ${first} first: ${bad.join("; ")}`);
    }
    if (found === null) return { model: null, problems };
    current = found;
  }
  return { model: current, problems: null };
}
