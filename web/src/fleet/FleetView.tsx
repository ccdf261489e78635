import type { Host, MaintenanceWindow } from "../api/types.js";
import { StateMessage } from "../components/StateMessage.js";
import { Time } from "../components/Time.js";
import { useServices } from "../context.js";
import { count } from "../format.js";
import { useResource } from "../hooks.js";
import { Link } from "../router.js";
import { MaintenancePanel } from "./MaintenancePanel.js";

const HOSTS_POLL_MS = 5000;

function Nodes({ host }: { host: Host }) {
  if (host.nodes.length === 0) return <span className="muted">none reported</span>;
  return (
    <ul className="nodes">
      {host.nodes.map((n) => (
        <li key={n.source} className={n.reachable ? "ok" : "bad"}>
          <span aria-hidden="true">{n.reachable ? "●" : "✕"}</span> {n.chain}{" "}
          <span className="visually-secondary">
            {n.reachable ? "reachable" : `unreachable${n.error ? `: ${n.error}` : ""}`}
          </span>
        </li>
      ))}
    </ul>
  );
}

function MaintenanceState({ w }: { w: MaintenanceWindow | null }) {
  if (w === null) return <span className="muted">no</span>;
  return (
    <span className="pill pill-maintenance">
      until <Time iso={w.ends_at} />
      {w.reason !== "" && <span className="visually-secondary"> — {w.reason}</span>}
    </span>
  );
}

/** Hosts with their last report, agent, nodes, keys and maintenance; and the maintenance windows. */
export function FleetView() {
  const { client } = useServices();
  const hosts = useResource(
    (signal) => client.get<{ data: Host[] }>("/api/v1/hosts", signal).then((r) => r.data),
    HOSTS_POLL_MS,
    [client],
  );
  const list = hosts.data ?? [];
  return (
    <section aria-labelledby="fleet-title">
      <div className="page-head">
        <h1 id="fleet-title">Fleet</h1>
        {hosts.data !== null && (
          <p className="muted">
            {count(list.length)} host{list.length === 1 ? "" : "s"},{" "}
            {count(list.reduce((n, h) => n + h.keys_active, 0))} active keys
          </p>
        )}
      </div>
      {hosts.error !== null && hosts.data !== null && (
        <p className="warning" role="alert">
          Showing the last known state; refreshing failed: {hosts.error}
        </p>
      )}
      {hosts.data === null ? (
        hosts.error !== null ? (
          <StateMessage kind="error" title="Hosts could not be loaded" onRetry={hosts.reload}>
            {hosts.error}
          </StateMessage>
        ) : (
          <StateMessage kind="loading" title="Loading hosts…" />
        )
      ) : list.length === 0 ? (
        <StateMessage kind="empty" title="No host has reported yet">
          Run an agent on every validator server, with a token of this owner:{" "}
          <code>
            slashguard agent --monitor {location.origin} --token-file agent.token --harmony-rpc http://127.0.0.1:9500
          </code>{" "}
          (or <code>--eth-keymanager</code>, <code>--cometbft-rpc</code>, <code>--substrate-rpc</code>; see
          docs/agent.md).
        </StateMessage>
      ) : (
        <div className="table-wrap">
          <table className="table hosts">
            <caption className="sr-only">Hosts reporting to this monitor</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Last report</th>
                <th scope="col">Agent</th>
                <th scope="col">Nodes</th>
                <th scope="col">Keys (active / present)</th>
                <th scope="col">Maintenance</th>
              </tr>
            </thead>
            <tbody>
              {list.map((h) => (
                <tr key={h.id} className={h.silent ? "row-warn" : undefined}>
                  <th scope="row">
                    {h.name}
                    {h.silent && <span className="pill pill-silent">silent</span>}
                  </th>
                  <td>
                    <Time iso={h.last_report_at} />
                    <span className="visually-secondary"> every {Math.round(h.interval_ms / 1000)} s</span>
                  </td>
                  <td>{h.agent_version || "—"}</td>
                  <td>
                    <Nodes host={h} />
                  </td>
                  <td>
                    <Link to={`/keys?host=${h.id}`}>
                      {count(h.keys_active)} / {count(h.keys_present)}
                      <span className="sr-only"> keys of {h.name} (active / present)</span>
                    </Link>
                  </td>
                  <td>
                    <MaintenanceState w={h.maintenance} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MaintenancePanel hosts={list} onChanged={hosts.reload} />
    </section>
  );
}
