import { useState } from "react";
import { kindLabel } from "../alerts/kinds.js";
import { describeError } from "../api/client.js";
import type { Timeline } from "../api/types.js";
import { EpochBars } from "../charts/EpochBars.js";
import { HostLanes } from "../charts/HostLanes.js";
import { CopyKey } from "../components/CopyKey.js";
import { StateMessage } from "../components/StateMessage.js";
import { Time } from "../components/Time.js";
import { useServices } from "../context.js";
import { absoluteTime } from "../format.js";
import { useResource } from "../hooks.js";
import { Link } from "../router.js";

const TIMELINE_POLL_MS = 10_000;

/** One key: which host held it when, the signatures recorded per epoch, and its alerts. */
export function KeyTimeline({ pubkey }: { pubkey: string }) {
  const { client } = useServices();
  const t = useResource(
    (signal) => client.get<{ data: Timeline }>(`/api/v1/keys/${pubkey}/timeline`, signal).then((r) => r.data),
    TIMELINE_POLL_MS,
    [client, pubkey],
  );
  const [csvError, setCsvError] = useState<string | null>(null);

  // The CSV needs the bearer token, so it is fetched here and handed to the browser as a file.
  const downloadCsv = async () => {
    setCsvError(null);
    try {
      const res = await client.raw(`/api/v1/reports/keys/${pubkey}/history?format=csv`, {
        headers: { accept: "text/csv" },
      });
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = `key-${pubkey.slice(0, 18)}-history.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setCsvError(describeError(e));
    }
  };

  const d = t.data;
  return (
    <section aria-labelledby="key-title">
      <p>
        <Link to="/keys">← All keys</Link>
      </p>
      <div className="page-head">
        <h1 id="key-title">Key timeline</h1>
        <CopyKey pubkey={pubkey} head={16} tail={8} />
      </div>
      {t.error !== null && d !== null && (
        <p className="warning" role="alert">
          Showing the last loaded timeline; refreshing failed: {t.error}
        </p>
      )}
      {d === null ? (
        t.error !== null ? (
          <StateMessage kind="error" title="The timeline could not be loaded" onRetry={t.reload}>
            {t.error}
          </StateMessage>
        ) : (
          <StateMessage kind="loading" title="Loading the key's timeline…" />
        )
      ) : (
        <>
          <section className="panel" aria-labelledby="hosts-title">
            <h2 id="hosts-title">Hosts over time</h2>
            {d.intervals.length === 0 && d.alerts.length === 0 ? (
              <StateMessage kind="empty" title="No host of your fleet has reported this key">
                Check the key, or start an agent on the host that holds it.
              </StateMessage>
            ) : (
              <HostLanes intervals={d.intervals} alerts={d.alerts} now={Date.parse(d.to)} />
            )}
            <button type="button" className="btn btn-small" onClick={() => void downloadCsv()}>
              Download the history as CSV
            </button>
            {csvError !== null && (
              <p className="form-error" role="alert">
                {csvError}
              </p>
            )}
          </section>
          <section className="panel" aria-labelledby="sigs-title">
            <h2 id="sigs-title">Signatures per epoch (signer)</h2>
            {d.signatures.available ? (
              <EpochBars signatures={d.signatures} />
            ) : (
              <StateMessage kind="empty" title="No signatures to show">
                {d.signatures.reason ?? "The signer recorded nothing for this key."} Signatures come from the
                slashing-protection records in the monitor's store: run the monitor with the signer (
                <code>slashguard up</code>) or on the signers' PostgreSQL database.
              </StateMessage>
            )}
          </section>
          <section className="panel" aria-labelledby="key-alerts-title">
            <h2 id="key-alerts-title">Alerts of this key</h2>
            {d.alerts.length === 0 ? (
              <p className="muted">No alert was ever raised for this key.</p>
            ) : (
              <ul className="compact-list">
                {d.alerts.map((a) => (
                  <li key={a.id}>
                    <span className={`badge badge-${a.severity}`}>{a.severity}</span> {kindLabel(a.kind)} #{a.id} —{" "}
                    <span className={`pill pill-${a.status}`}>{a.status}</span> since <Time iso={a.first_seen} />:{" "}
                    {a.summary}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <details className="panel">
            <summary>History as a table</summary>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Host</th>
                    <th scope="col">Chain</th>
                    <th scope="col">State</th>
                    <th scope="col">From</th>
                    <th scope="col">To</th>
                  </tr>
                </thead>
                <tbody>
                  {d.intervals.map((i) => (
                    <tr key={`${i.host_id}|${i.chain}|${i.from}|${i.to}`}>
                      <td>{i.host}</td>
                      <td>{i.chain}</td>
                      <td>
                        {i.active ? "signing" : i.present ? "loaded, not signing" : "not loaded"}
                        {i.stale ? " (stale)" : ""}
                      </td>
                      <td>{absoluteTime(i.from)}</td>
                      <td>{i.to === null ? "now" : absoluteTime(i.to)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </section>
  );
}
