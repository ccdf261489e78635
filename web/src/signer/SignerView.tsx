import { useId, useMemo, useState } from "react";
import { ApiError } from "../api/client.js";
import type { DoppelgangerEntry, SignerStats } from "../api/types.js";
import { MinuteChart } from "../charts/MinuteChart.js";
import { CopyKey } from "../components/CopyKey.js";
import { StateMessage } from "../components/StateMessage.js";
import { useServices } from "../context.js";
import { count } from "../format.js";
import { useResource } from "../hooks.js";
import { Link } from "../router.js";

const STATS_POLL_MS = 10_000;
const KEYS_POLL_MS = 30_000;
/** Rows drawn at once; the search box narrows larger key sets. */
const MAX_ROWS = 300;

const DG_LABEL: Record<string, string> = {
  unverified: "checking (not signing yet)",
  verified: "verified",
  doppelganger_detected: "DOPPELGANGER DETECTED",
};
const DG_ORDER = ["doppelganger_detected", "unverified", "verified"];

const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;

/** The signer in this process: keys loaded, doppelganger state per key, signatures and refusals per minute. */
export function SignerView() {
  const { client } = useServices();
  const keys = useResource((s) => client.get<string[]>("/api/v1/eth2/publicKeys", s), KEYS_POLL_MS, [client]);
  const dg = useResource(
    (s) => client.get<{ data: DoppelgangerEntry[] }>("/api/v1/eth2/doppelganger", s).then((r) => r.data),
    KEYS_POLL_MS,
    [client],
  );
  const stats = useResource(
    (s) => client.get<{ data: SignerStats }>("/api/v1/eth2/stats?minutes=60", s).then((r) => r.data),
    STATS_POLL_MS,
    [client],
  );
  const [filter, setFilter] = useState("");
  const filterId = useId();

  const dgOff = isNotFound(dg.failure);
  const dgBy = useMemo(() => new Map((dg.data ?? []).map((e) => [e.pubkey.toLowerCase(), e])), [dg.data]);
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const list = (keys.data ?? []).filter(
      (k) => f === "" || k.toLowerCase().startsWith(f.startsWith("0x") ? f : `0x${f}`),
    );
    const rank = (k: string) => {
      const i = DG_ORDER.indexOf(dgBy.get(k.toLowerCase())?.status ?? "");
      return i < 0 ? DG_ORDER.length : i;
    };
    return list.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  }, [keys.data, dgBy, filter]);

  if (isNotFound(keys.failure))
    return (
      <section aria-labelledby="signer-title">
        <h1 id="signer-title">Signer</h1>
        <StateMessage kind="empty" title="No Ethereum signer runs on this server">
          This monitor runs on its own. The signer view shows the signer that serves this page: start both with{" "}
          <code>slashguard up</code>, or open the dashboard on a signer that runs the monitor too.
        </StateMessage>
      </section>
    );

  const s = stats.data;
  const counts = { verified: 0, unverified: 0, doppelganger_detected: 0 } as Record<string, number>;
  for (const e of dg.data ?? []) counts[e.status] = (counts[e.status] ?? 0) + 1;
  const refusals = new Map<string, number>();
  for (const m of s?.minutes ?? [])
    for (const [c, k] of Object.entries(m.refused_by_code)) refusals.set(c, (refusals.get(c) ?? 0) + k);

  return (
    <section aria-labelledby="signer-title">
      <div className="page-head">
        <h1 id="signer-title">Signer</h1>
      </div>
      <div className="tiles">
        <div className="tile">
          <span className="tile-label">Keys loaded</span>
          <span className="tile-value">{keys.data === null ? "…" : count(keys.data.length)}</span>
        </div>
        <div className="tile">
          <span className="tile-label">Signed, last hour</span>
          <span className="tile-value">{s === null ? "…" : count(s.minutes.reduce((n, m) => n + m.signed, 0))}</span>
        </div>
        <div className="tile">
          <span className="tile-label">Refused, last hour</span>
          <span className="tile-value">{s === null ? "…" : count(s.minutes.reduce((n, m) => n + m.refused, 0))}</span>
        </div>
        <div className={`tile ${counts.doppelganger_detected ? "tile-danger" : ""}`}>
          <span className="tile-label">Doppelganger guard</span>
          <span className="tile-value tile-value-small">
            {dgOff
              ? "not enabled"
              : dg.data === null
                ? "…"
                : `${counts.verified} verified, ${counts.unverified} checking, ${counts.doppelganger_detected} detected`}
          </span>
        </div>
      </div>

      <section className="panel" aria-labelledby="rate-title">
        <h2 id="rate-title">Signatures and refusals per minute</h2>
        {s === null ? (
          stats.error !== null ? (
            <StateMessage kind="error" title="Signing statistics could not be loaded" onRetry={stats.reload}>
              {stats.error}
            </StateMessage>
          ) : (
            <StateMessage kind="loading" title="Loading signing statistics…" />
          )
        ) : (
          <>
            <MinuteChart minutes={s.minutes} />
            <p className="muted">Counted since the signer started ({new Date(s.since).toLocaleString()}).</p>
            {refusals.size > 0 && (
              <table className="table narrow">
                <caption>Refusals in the last hour by code</caption>
                <thead>
                  <tr>
                    <th scope="col">Code</th>
                    <th scope="col">Refusals</th>
                  </tr>
                </thead>
                <tbody>
                  {[...refusals]
                    .sort((a, b) => b[1] - a[1])
                    .map(([c, k]) => (
                      <tr key={c}>
                        <td>
                          <code>{c}</code>
                        </td>
                        <td>{count(k)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </section>

      <section className="panel" aria-labelledby="signer-keys-title">
        <h2 id="signer-keys-title">Keys and doppelganger status</h2>
        {dgOff && (
          <p className="notice" data-testid="doppelganger-off">
            Doppelganger guard not enabled on this signer: keys sign as soon as they are loaded. Enable it to have new
            keys wait until the chain shows them silent.
          </p>
        )}
        {dg.error !== null && !dgOff && (
          <p className="warning" role="alert">
            Doppelganger status could not be loaded: {dg.error}
          </p>
        )}
        {keys.data === null ? (
          keys.error !== null ? (
            <StateMessage kind="error" title="The signer's keys could not be loaded" onRetry={keys.reload}>
              {keys.error}
            </StateMessage>
          ) : (
            <StateMessage kind="loading" title="Loading keys…" />
          )
        ) : keys.data.length === 0 ? (
          <StateMessage kind="empty" title="The signer holds no key">
            Import keystores with the keymanager API (<code>POST /eth/v1/keystores</code>) or put them in the keystores
            folder and restart.
          </StateMessage>
        ) : (
          <>
            <div className="field">
              <label htmlFor={filterId}>Public key starts with</label>
              <input
                id={filterId}
                type="search"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
                autoComplete="off"
              />
            </div>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Public key</th>
                    <th scope="col">Validator index</th>
                    <th scope="col">Doppelganger</th>
                    <th scope="col">Detail</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.slice(0, MAX_ROWS).map((k) => {
                    const e = dgBy.get(k.toLowerCase());
                    return (
                      <tr key={k} className={e?.status === "doppelganger_detected" ? "row-danger" : undefined}>
                        <td>
                          <CopyKey pubkey={k} /> <Link to={`/keys/${k.toLowerCase()}`}>Timeline</Link>
                        </td>
                        <td>{e?.index ?? "—"}</td>
                        <td>
                          {dgOff ? (
                            <span className="muted">not enabled</span>
                          ) : e === undefined ? (
                            "—"
                          ) : (
                            <span className={`pill pill-dg-${e.status}`}>
                              {DG_LABEL[e.status] ?? e.status}
                              {e.status === "unverified" && ` (${e.remaining_epochs} epochs left)`}
                            </span>
                          )}
                        </td>
                        <td>{e?.detail ?? ""}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            {rows.length > MAX_ROWS && (
              <p className="muted">
                Showing {MAX_ROWS} of {count(rows.length)} keys (problems first); type a prefix to narrow the list.
              </p>
            )}
          </>
        )}
      </section>
    </section>
  );
}
