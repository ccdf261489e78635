/** 0x1234abcd…9f8e: enough to tell keys apart at a glance; the full key is one click away. */
export function shortKey(pubkey: string, head = 8, tail = 4): string {
  if (pubkey.length <= 2 + head + tail + 1) return pubkey;
  return `${pubkey.slice(0, 2 + head)}…${pubkey.slice(-tail)}`;
}

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "short" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1000],
];

export function relativeTime(iso: string | number, now: number): string {
  const t = typeof iso === "number" ? iso : Date.parse(iso);
  if (Number.isNaN(t)) return "unknown";
  const d = t - now;
  if (Math.abs(d) < 5000) return "just now";
  for (const [unit, ms] of UNITS)
    if (Math.abs(d) >= ms || unit === "second") return rtf.format(Math.round(d / ms), unit);
  return rtf.format(0, "second");
}

const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function absoluteTime(iso: string | number): string {
  const t = typeof iso === "number" ? iso : Date.parse(iso);
  return Number.isNaN(t) ? String(iso) : dtf.format(t);
}

export function percent(v: number): string {
  return `${Math.round(Math.max(0, Math.min(1, v)) * 100)}%`;
}

/** 10,000 → "10,000". */
export function count(n: number): string {
  return n.toLocaleString("en");
}
