import { type FormEvent, useId, useState } from "react";
import { describeError } from "../api/client.js";
import type { Host, MaintenanceWindow } from "../api/types.js";
import { StateMessage } from "../components/StateMessage.js";
import { Time } from "../components/Time.js";
import { useServices } from "../context.js";
import { useResource } from "../hooks.js";

export const DURATIONS: { label: string; ms: number }[] = [
  { label: "30 minutes", ms: 30 * 60_000 },
  { label: "1 hour", ms: 3_600_000 },
  { label: "2 hours", ms: 2 * 3_600_000 },
  { label: "4 hours", ms: 4 * 3_600_000 },
  { label: "8 hours", ms: 8 * 3_600_000 },
  { label: "1 day", ms: 86_400_000 },
];

/**
 * Maintenance windows: they silence "agent silent" and "node unreachable" for a host, never a key
 * active on two hosts. Schedule one (now or later), end a running one, cancel a future one.
 */
export function MaintenancePanel({ hosts, onChanged }: { hosts: Host[]; onChanged: () => void }) {
  const { client } = useServices();
  const windows = useResource(
    (signal) => client.get<{ data: MaintenanceWindow[] }>("/api/v1/maintenance", signal).then((r) => r.data),
    10_000,
    [client],
  );
  const [host, setHost] = useState("");
  const [start, setStart] = useState("");
  const [duration, setDuration] = useState(DURATIONS[1]!.ms);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const ids = { host: useId(), start: useId(), duration: useId(), reason: useId() };

  const changed = (text: string) => {
    setMessage({ error: false, text });
    windows.reload();
    onChanged();
  };

  const schedule = async (e: FormEvent) => {
    e.preventDefault();
    const target = host !== "" ? host : hosts[0] === undefined ? "" : String(hosts[0].id);
    if (target === "") return setMessage({ error: true, text: "Choose a host first." });
    const startsAt = start === "" ? Date.now() : new Date(start).getTime();
    if (Number.isNaN(startsAt)) return setMessage({ error: true, text: "The start time is not a valid date." });
    setBusy(true);
    try {
      const body = {
        host: Number(target),
        ends_at: new Date(startsAt + duration).toISOString(),
        reason,
        ...(start === "" ? {} : { starts_at: new Date(startsAt).toISOString() }),
      };
      const r = await client.send<{ data: MaintenanceWindow }>("POST", "/api/v1/maintenance", body);
      setReason("");
      changed(`Maintenance scheduled for ${r.data.host}.`);
    } catch (err) {
      setMessage({ error: true, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };

  const end = async (w: MaintenanceWindow) => {
    setBusy(true);
    try {
      if (Date.parse(w.starts_at) > Date.now()) await client.send("DELETE", `/api/v1/maintenance/${w.id}`);
      else
        await client.send("PUT", `/api/v1/maintenance/${w.id}`, {
          starts_at: w.starts_at,
          ends_at: new Date().toISOString(),
          reason: w.reason,
        });
      changed(`Maintenance of ${w.host} ended.`);
    } catch (err) {
      setMessage({ error: true, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };

  const list = windows.data ?? [];
  return (
    <section className="panel" aria-labelledby="maint-title">
      <h2 id="maint-title">Maintenance windows</h2>
      <form className="maint-form" onSubmit={(e) => void schedule(e)}>
        <div className="field">
          <label htmlFor={ids.host}>Host</label>
          <select id={ids.host} value={host} onChange={(e) => setHost(e.target.value)} disabled={hosts.length === 0}>
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.start}>Starts (empty: now)</label>
          <input id={ids.start} type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.duration}>Lasts</label>
          <select id={ids.duration} value={duration} onChange={(e) => setDuration(Number(e.target.value))}>
            {DURATIONS.map((d) => (
              <option key={d.ms} value={d.ms}>
                {d.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-grow">
          <label htmlFor={ids.reason}>Reason</label>
          <input
            id={ids.reason}
            type="text"
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder="kernel upgrade"
          />
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy || hosts.length === 0}>
          Schedule maintenance
        </button>
      </form>
      {message !== null && (
        <p className={message.error ? "form-error" : "form-ok"} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      {windows.data === null ? (
        windows.error !== null ? (
          <StateMessage kind="error" title="Maintenance windows could not be loaded" onRetry={windows.reload}>
            {windows.error}
          </StateMessage>
        ) : (
          <StateMessage kind="loading" title="Loading maintenance windows…" />
        )
      ) : list.length === 0 ? (
        <p className="muted">No maintenance window is running or planned.</p>
      ) : (
        <ul className="maint-list">
          {list.map((w) => {
            const future = Date.parse(w.starts_at) > Date.now();
            return (
              <li key={w.id}>
                <span>
                  <strong>{w.host}</strong> {future ? "from" : "since"} <Time iso={w.starts_at} /> until{" "}
                  <Time iso={w.ends_at} />
                  {w.reason !== "" && <> — {w.reason}</>} <span className="muted">(by {w.created_by})</span>
                </span>
                <button type="button" className="btn btn-small" disabled={busy} onClick={() => void end(w)}>
                  {future ? `Cancel maintenance of ${w.host}` : `End maintenance of ${w.host} now`}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
