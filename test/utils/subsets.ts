/** Subsets of 1..n with exactly k elements, in lexicographic order. */
export function subsets(n: number, k: number): number[][] {
  const out: number[][] = [];
  const walk = (start: number, acc: number[]): void => {
    if (acc.length === k) {
      out.push(acc);
      return;
    }
    for (let i = start; i <= n; i++) walk(i + 1, [...acc, i]);
  };
  walk(1, []);
  return out;
}
