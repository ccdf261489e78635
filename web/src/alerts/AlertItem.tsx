import { useId, useState } from "react";
import { describeError } from "../api/client.js";
import type { Alert } from "../api/types.js";
import { ConfidenceBar } from "../components/ConfidenceBar.js";
import { CopyKey } from "../components/CopyKey.js";
import { Time } from "../components/Time.js";
import { useServices } from "../context.js";
import { Link } from "../router.js";
import { sourcesOf } from "./evidence.js";
import { KIND_ADVICE, kindLabel } from "./kinds.js";

export const SUPPRESS_CHOICES: { label: string; ms: number }[] = [
  { label: "15 minutes", ms: 15 * 60_000 },
  { label: "1 hour", ms: 3_600_000 },
  { label: "4 hours", ms: 4 * 3_600_000 },
  { label: "1 day", ms: 86_400_000 },
  { label: "7 days", ms: 7 * 86_400_000 },
];

/** One alert: what, where, how sure, since when, and the Acknowledge / Suppress actions. */
export function AlertItem({ alert, onDone }: { alert: Alert; onDone: (message: string) => void }) {
  const { alerts } = useServices();
  const [busy, setBusy] = useState<"" | "ack" | "suppress">("");
  const [error, setError] = useState<string | null>(null);
  const [suppressMs, setSuppressMs] = useState(SUPPRESS_CHOICES[1]!.ms);
  const headingId = useId();
  const selectId = useId();
  const sources = sourcesOf(alert);
  const resolved = alert.status === "resolved";

  const act = async (what: "ack" | "suppress") => {
    setBusy(what);
    setError(null);
    try {
      if (what === "ack") await alerts.acknowledge(alert.id);
      else await alerts.suppress(alert.id, new Date(Date.now() + suppressMs));
      onDone(
        what === "ack"
          ? `Alert ${alert.id} acknowledged.`
          : `Alert ${alert.id} suppressed for ${SUPPRESS_CHOICES.find((c) => c.ms === suppressMs)?.label ?? ""}.`,
      );
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy("");
    }
  };

  return (
    <article className={`alert alert-${alert.severity} alert-status-${alert.status}`} aria-labelledby={headingId}>
      <header className="alert-head">
        <span className={`badge badge-${alert.severity}`}>{alert.severity}</span>
        <h2 id={headingId} className="alert-title">
          {kindLabel(alert.kind)} <span className="alert-id">#{alert.id}</span>
        </h2>
        <span className={`pill pill-${alert.status}`}>
          {alert.status}
          {alert.status === "suppressed" && alert.suppressed_until !== null && (
            <>
              {" "}
              until <Time iso={alert.suppressed_until} />
            </>
          )}
        </span>
      </header>
      <p className="alert-summary">{alert.summary}</p>
      {alert.status === "open" && KIND_ADVICE[alert.kind] !== undefined && (
        <p className="alert-advice">{KIND_ADVICE[alert.kind]}</p>
      )}
      <ConfidenceBar value={alert.confidence} />
      <dl className="facts">
        <div>
          <dt>Kind</dt>
          <dd>
            <code>{alert.kind}</code>
          </dd>
        </div>
        <div>
          <dt>Chain</dt>
          <dd>{alert.chain ?? "—"}</dd>
        </div>
        <div>
          <dt>Key</dt>
          <dd>
            {alert.pubkey === null ? (
              "—"
            ) : (
              <>
                <CopyKey pubkey={alert.pubkey} />{" "}
                <Link to={`/keys/${alert.pubkey}`} aria-label={`Timeline of key ${alert.pubkey}`}>
                  Timeline
                </Link>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Hosts</dt>
          <dd>{alert.hosts.length === 0 ? "—" : alert.hosts.join(", ")}</dd>
        </div>
        {sources.length > 0 && (
          <div>
            <dt>Reported by</dt>
            <dd>{sources.join("; ")}</dd>
          </div>
        )}
        <div>
          <dt>First seen</dt>
          <dd>
            <Time iso={alert.first_seen} />
          </dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>
            <Time iso={alert.last_seen} />
          </dd>
        </div>
        {alert.acknowledged_by !== null && alert.acknowledged_at !== null && (
          <div>
            <dt>Acknowledged</dt>
            <dd>
              by {alert.acknowledged_by}, <Time iso={alert.acknowledged_at} />
            </dd>
          </div>
        )}
      </dl>
      {!resolved && (
        <div className="alert-actions">
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy !== "" || alert.status === "acknowledged"}
            onClick={() => void act("ack")}
          >
            {busy === "ack" ? "Acknowledging…" : alert.status === "acknowledged" ? "Acknowledged" : "Acknowledge"}
          </button>
          <span className="suppress">
            <label htmlFor={selectId}>Suppress for</label>
            <select id={selectId} value={suppressMs} onChange={(e) => setSuppressMs(Number(e.target.value))}>
              {SUPPRESS_CHOICES.map((c) => (
                <option key={c.ms} value={c.ms}>
                  {c.label}
                </option>
              ))}
            </select>
            <button type="button" className="btn" disabled={busy !== ""} onClick={() => void act("suppress")}>
              {busy === "suppress" ? "Suppressing…" : "Suppress"}
            </button>
          </span>
        </div>
      )}
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <details className="evidence">
        <summary>Evidence</summary>
        <pre>{JSON.stringify(alert.evidence, null, 2)}</pre>
      </details>
    </article>
  );
}
