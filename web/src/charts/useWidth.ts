import { type RefObject, useEffect, useState } from "react";

/** The width of an element in CSS pixels, following resizes (charts draw at their real width). */
export function useWidth(ref: RefObject<HTMLElement | null>, fallback = 800): number {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const measure = () => {
      const w = Math.round(el.getBoundingClientRect().width);
      if (w > 0) setWidth(w);
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return width;
}

/** About `n` round tick values between lo and hi. */
export function ticks(lo: number, hi: number, n: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(v);
  return out;
}

/** Integer ticks for counts (no "0.5 signatures"). */
export function countTicks(max: number, n: number): number[] {
  return ticks(0, max, n).filter((v) => Number.isInteger(v));
}

const TIME_FORMATS = [
  {
    upTo: 15 * 60_000,
    f: new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
  },
  { upTo: 2 * 86_400_000, f: new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }) },
  { upTo: Number.POSITIVE_INFINITY, f: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }) },
];

/** A label format for time ticks that tells neighbours apart over a span of `ms`. */
export function timeTickFormat(ms: number): Intl.DateTimeFormat {
  return TIME_FORMATS.find((t) => ms <= t.upTo)!.f;
}
