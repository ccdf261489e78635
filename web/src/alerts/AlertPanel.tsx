import { useEffect, useId, useMemo, useState } from "react";
import { describeError } from "../api/client.js";
import type { Alert, AlertStatus } from "../api/types.js";
import { StateMessage } from "../components/StateMessage.js";
import { useAlerts, useServices } from "../context.js";
import { useNav } from "../router.js";
import { AlertItem } from "./AlertItem.js";
import { compareWorst, KIND_LABELS, kindLabel } from "./kinds.js";

type StatusFilter = "active" | AlertStatus | "all";

const STATUS_OPTIONS: { value: StatusFilter; label: string }[] = [
  { value: "active", label: "Needs attention" },
  { value: "open", label: "Open" },
  { value: "acknowledged", label: "Acknowledged" },
  { value: "suppressed", label: "Suppressed" },
  { value: "resolved", label: "Resolved" },
  { value: "all", label: "All" },
];
const STATUS_ORDER: AlertStatus[] = ["open", "acknowledged", "suppressed", "resolved"];

function matches(a: Alert, status: StatusFilter, kind: string): boolean {
  if (kind !== "" && a.kind !== kind) return false;
  if (status === "all") return true;
  if (status === "active") return a.status !== "resolved";
  return a.status === status;
}

export function filterAlerts(alerts: readonly Alert[], status: StatusFilter, kind: string): Alert[] {
  return alerts
    .filter((a) => matches(a, status, kind))
    .sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || compareWorst(a, b));
}

/** The alert panel: filters by status and kind (kept in the URL), and each alert with its actions. */
export function AlertPanel() {
  const snap = useAlerts();
  const { alerts: store } = useServices();
  const { search, navigate } = useNav();
  const params = new URLSearchParams(search);
  const status = (
    STATUS_OPTIONS.some((o) => o.value === params.get("status")) ? params.get("status") : "active"
  ) as StatusFilter;
  const kind = params.get("kind") ?? "";
  const [fetchError, setFetchError] = useState<string | null>(null);
  const [announce, setAnnounce] = useState("");
  const statusId = useId();
  const kindId = useId();

  // The store always holds every unresolved alert; resolved ones are fetched when asked for.
  useEffect(() => {
    if (status !== "resolved" && status !== "all") return;
    setFetchError(null);
    store.fetch(status === "all" ? "" : "resolved", kind).catch((e) => setFetchError(describeError(e)));
  }, [status, kind, store]);

  const kinds = useMemo(
    () => [...new Set([...Object.keys(KIND_LABELS), ...snap.alerts.map((a) => a.kind)])].sort(),
    [snap.alerts],
  );
  const shown = useMemo(() => filterAlerts(snap.alerts, status, kind), [snap.alerts, status, kind]);
  const setFilter = (k: "status" | "kind", v: string) => {
    const p = new URLSearchParams(search);
    if (v === "" || (k === "status" && v === "active")) p.delete(k);
    else p.set(k, v);
    const q = p.toString();
    navigate(`/alerts${q === "" ? "" : `?${q}`}`, { replace: true });
  };

  return (
    <section aria-labelledby="alerts-title">
      <div className="page-head">
        <h1 id="alerts-title">Alerts</h1>
        <form className="filters" onSubmit={(e) => e.preventDefault()}>
          <label htmlFor={statusId}>Status</label>
          <select id={statusId} value={status} onChange={(e) => setFilter("status", e.target.value)}>
            {STATUS_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
          <label htmlFor={kindId}>Kind</label>
          <select id={kindId} value={kind} onChange={(e) => setFilter("kind", e.target.value)}>
            <option value="">All kinds</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </form>
      </div>
      <p className="sr-only" role="status" aria-live="polite">
        {announce}
      </p>
      {snap.error !== null && snap.alerts.length > 0 && (
        <p className="warning" role="alert">
          Showing the last alerts received; refreshing failed: {snap.error}
        </p>
      )}
      {fetchError !== null && (
        <p className="warning" role="alert">
          Could not load resolved alerts: {fetchError}
        </p>
      )}
      {snap.loading && snap.alerts.length === 0 ? (
        <StateMessage kind="loading" title="Loading alerts…" />
      ) : snap.error !== null && snap.alerts.length === 0 ? (
        <StateMessage kind="error" title="Alerts could not be loaded" onRetry={() => void store.load()}>
          {snap.error}
        </StateMessage>
      ) : shown.length === 0 ? (
        <StateMessage
          kind="empty"
          title={status === "active" && kind === "" ? "No alert needs attention" : "No alert matches these filters"}
        >
          {status === "active" && kind === ""
            ? "When a key signs on two hosts, an agent falls silent or a node cannot be reached, the alert appears here at once."
            : "Choose another status or kind, or “All” to include resolved alerts."}
        </StateMessage>
      ) : (
        <ul className="alert-list" aria-label={`${shown.length} alerts`}>
          {shown.map((a) => (
            <li key={a.id}>
              <AlertItem alert={a} onDone={setAnnounce} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
