/** Monotonic milliseconds (performance.now): deadlines must not move when the wall clock is stepped. */
export interface Monotonic {
  now(): number;
}

export const monotonic: Monotonic = { now: () => performance.now() };
