/** Seeded PRNG (mulberry32): fuzz loops are reproducible from their seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mutates a JSON value at random: drops, retypes or replaces members, at any depth. */
export function mutate(v: unknown, r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const junk = (): unknown =>
    pick([null, true, 0, -1, 1e300, "", "x".repeat(2000), [], {}, "0x", "Normal", Number.NaN]);
  if (r() < 0.15 || depth > 6) return junk();
  if (Array.isArray(v)) {
    const out = v.map((x) => (r() < 0.3 ? mutate(x, r, depth + 1) : x));
    if (r() < 0.2) out.push(junk());
    if (r() < 0.2) out.splice(Math.floor(r() * out.length), 1);
    return out;
  }
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const k of Object.keys(out)) {
      const x = r();
      if (x < 0.1) delete out[k];
      else if (x < 0.35) out[k] = mutate(out[k], r, depth + 1);
    }
    if (r() < 0.1) out[pick(["extra", "__proto__", "constructor"])] = junk();
    return out;
  }
  return r() < 0.5 ? junk() : v;
}
