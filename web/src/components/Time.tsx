import { absoluteTime, relativeTime } from "../format.js";
import { useNow } from "../hooks.js";

/** "3 min ago", with the exact time on hover and for assistive technology. */
export function Time({ iso }: { iso: string }) {
  const now = useNow();
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {relativeTime(iso, now)}
    </time>
  );
}
