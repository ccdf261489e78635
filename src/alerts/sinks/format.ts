import type { AlertNotification } from "../types.js";

/** One-line title of a notification, the same on every chat channel. */
export function titleOf(n: AlertNotification): string {
  const a = n.alert;
  const tag =
    n.action === "resolve"
      ? "RESOLVED"
      : n.action === "acknowledge"
        ? `ACKNOWLEDGED by ${a.acknowledged_by ?? "?"}`
        : `${a.severity.toUpperCase()}${n.reminder ? " (still open)" : ""}`;
  return `[${tag}] ${a.kind}: ${a.summary}`;
}

/** Plain-text body: title, then the facts an operator needs to act. */
export function textOf(n: AlertNotification): string {
  const a = n.alert;
  const lines = [
    titleOf(n),
    `alert #${a.id} · confidence ${a.confidence} · hosts ${a.hosts.join(", ") || "-"}`,
    a.pubkey === null ? null : `key ${a.pubkey} (${a.chain})`,
    `first seen ${a.first_seen}, last seen ${a.last_seen}`,
    n.owner === null ? null : `owner ${n.owner}`,
  ];
  return lines.filter((l) => l !== null).join("\n");
}
