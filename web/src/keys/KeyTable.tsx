import { useVirtualizer } from "@tanstack/react-virtual";
import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { KeyRow } from "../api/types.js";
import { StateMessage } from "../components/StateMessage.js";
import { Time } from "../components/Time.js";
import { useServices } from "../context.js";
import { count, shortKey } from "../format.js";
import { useResource } from "../hooks.js";
import { Link, useNav } from "../router.js";
import { KeyIndex, type PortLike, startKeyWorker } from "./keyIndex.js";
import {
  type Facets,
  fingerprint,
  type KeyQuery,
  normalizePrefix,
  type SortKey,
  type StatusFilter,
} from "./keyQuery.js";
import { loadAllKeys } from "./loadKeys.js";

const KEYS_POLL_MS = 15_000;
const ROW_HEIGHT = 44;
const COLUMNS: { key: SortKey; label: string; className: string }[] = [
  { key: "pubkey", label: "Public key", className: "c-key" },
  { key: "chain", label: "Chain", className: "c-chain" },
  { key: "host", label: "Host", className: "c-host" },
  { key: "status", label: "Status", className: "c-status" },
  { key: "changed", label: "Changed", className: "c-changed" },
];
const STATUSES: { value: StatusFilter; label: string }[] = [
  { value: "", label: "Any status" },
  { value: "active", label: "Active (signing)" },
  { value: "inactive", label: "Inactive" },
  { value: "stale", label: "Stale (node unreachable)" },
];

function readQuery(search: string): KeyQuery & { input: string } {
  const p = new URLSearchParams(search);
  const sort = (COLUMNS.some((c) => c.key === p.get("sort")) ? p.get("sort") : "pubkey") as SortKey;
  const status = (STATUSES.some((s) => s.value === p.get("status")) ? p.get("status") : "") as StatusFilter;
  const input = p.get("q") ?? "";
  return {
    input,
    prefix: normalizePrefix(input) ?? "",
    chain: p.get("chain") ?? "",
    status,
    host: p.get("host") ?? "",
    sort,
    desc: p.get("desc") === "1",
  };
}

function StatusCell({ row }: { row: KeyRow }) {
  return (
    <span className={`pill pill-${row.status}`}>
      {row.status}
      {row.stale && " · stale"}
    </span>
  );
}

/**
 * Every key of the fleet (10,000+): filters by prefix, chain, status and host, sorting by column.
 * Filtering and sorting run in a Web Worker; only the rows in view are in the DOM (virtualised).
 * Arrow keys move between rows; Enter opens a key's timeline.
 */
export function KeyTable({ portFactory = startKeyWorker }: { portFactory?: () => PortLike }) {
  const { client } = useServices();
  const { search, navigate } = useNav();
  const keys = useResource((signal) => loadAllKeys(client, signal), KEYS_POLL_MS, [client]);
  const [index] = useState(() => new KeyIndex(portFactory()));
  useEffect(() => () => index.close(), [index]);

  const q = readQuery(search);
  const [input, setInput] = useState(q.input);
  const prefix = normalizePrefix(input);
  const query: KeyQuery = { ...q, prefix: prefix ?? q.prefix };
  const queryKey = JSON.stringify(query);
  const [facets, setFacets] = useState<Facets | null>(null);
  const [result, setResult] = useState<{ rows: KeyRow[]; indices: Int32Array } | null>(null);
  const ids = { search: useId(), chain: useId(), status: useId(), host: useId(), count: useId() };

  // The rows handed to the worker change only when a refresh brought something new.
  const [rows, setRows] = useState<KeyRow[] | null>(null);
  const shown = useRef("");
  useEffect(() => {
    if (keys.data === null) return;
    const f = fingerprint(keys.data);
    if (f === shown.current) return;
    shown.current = f;
    setRows(keys.data);
  }, [keys.data]);
  useEffect(() => {
    if (rows === null) return;
    void index.load(rows).then(setFacets);
  }, [rows, index]);
  useEffect(() => {
    if (rows === null) return;
    void index.query(JSON.parse(queryKey) as KeyQuery).then((indices) => {
      if (indices !== null) setResult({ rows, indices });
    });
  }, [rows, queryKey, index]);

  const setParam = (k: string, v: string) => {
    const p = new URLSearchParams(search);
    if (v === "") p.delete(k);
    else p.set(k, v);
    const s = p.toString();
    navigate(`/keys${s === "" ? "" : `?${s}`}`, { replace: true });
  };
  const onSearch = (v: string) => {
    setInput(v);
    if (normalizePrefix(v) !== null) setParam("q", v.trim());
  };
  const sortBy = (key: SortKey) => {
    const p = new URLSearchParams(search);
    const desc = q.sort === key && !q.desc;
    p.set("sort", key);
    if (desc) p.set("desc", "1");
    else p.delete("desc");
    navigate(`/keys?${p}`, { replace: true });
  };

  const scrollRef = useRef<HTMLDivElement>(null);
  const headRef = useRef<HTMLTableSectionElement>(null);
  // The sticky header scrolls with the rows: the list starts below it.
  const [scrollMargin, setScrollMargin] = useState(0);
  useLayoutEffect(() => setScrollMargin(headRef.current?.offsetHeight ?? 0), []);
  const n = result?.indices.length ?? 0;
  const virtualizer = useVirtualizer({
    count: n,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollMargin,
    initialRect: { width: 800, height: 600 },
  });
  const rowAt = (i: number): KeyRow | undefined => (result === null ? undefined : result.rows[result.indices[i]!]);

  const focusRow = (i: number) => {
    const target = Math.max(0, Math.min(n - 1, i));
    virtualizer.scrollToIndex(target, { align: "auto" });
    requestAnimationFrame(() =>
      scrollRef.current?.querySelector<HTMLAnchorElement>(`[data-index="${target}"] a`)?.focus(),
    );
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>("[data-index]");
    if (row === null) return;
    const i = Number(row.dataset.index);
    const step: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
    if (e.key in step) focusRow(i + step[e.key]!);
    else if (e.key === "Home") focusRow(0);
    else if (e.key === "End") focusRow(n - 1);
    else return;
    e.preventDefault();
  };

  const hostName = useMemo(() => new Map((facets?.hosts ?? []).map((h) => [String(h.id), h.name])), [facets]);
  const total = rows?.length ?? 0;

  return (
    <section aria-labelledby="keys-title">
      <div className="page-head">
        <h1 id="keys-title">Keys</h1>
        <p className="muted" id={ids.count} role="status" aria-live="polite">
          {rows === null
            ? ""
            : `Showing ${count(n)} of ${count(total)} keys${q.host !== "" && hostName.has(q.host) ? ` on ${hostName.get(q.host)}` : ""}`}
        </p>
      </div>
      <search>
        <form className="filters" onSubmit={(e) => e.preventDefault()}>
          <div className="field field-grow">
            <label htmlFor={ids.search}>Public key starts with</label>
            <input
              id={ids.search}
              type="search"
              inputMode="text"
              autoComplete="off"
              spellCheck={false}
              placeholder="0xa1b2…"
              value={input}
              aria-invalid={prefix === null}
              aria-describedby={prefix === null ? `${ids.search}-err` : undefined}
              onChange={(e) => onSearch(e.target.value)}
            />
            {prefix === null && (
              <span className="form-error" id={`${ids.search}-err`}>
                A public key has only hex digits (0-9, a-f).
              </span>
            )}
          </div>
          <div className="field">
            <label htmlFor={ids.chain}>Chain</label>
            <select id={ids.chain} value={q.chain} onChange={(e) => setParam("chain", e.target.value)}>
              <option value="">All chains</option>
              {(facets?.chains ?? []).map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.status}>Status</label>
            <select id={ids.status} value={q.status} onChange={(e) => setParam("status", e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.host}>Host</label>
            <select id={ids.host} value={q.host} onChange={(e) => setParam("host", e.target.value)}>
              <option value="">All hosts</option>
              {(facets?.hosts ?? []).map((h) => (
                <option key={h.id} value={String(h.id)}>
                  {h.name}
                </option>
              ))}
            </select>
          </div>
        </form>
      </search>
      {keys.error !== null && keys.data !== null && (
        <p className="warning" role="alert">
          Showing the last loaded keys; refreshing failed: {keys.error}
        </p>
      )}
      {keys.data === null ? (
        keys.error !== null ? (
          <StateMessage kind="error" title="Keys could not be loaded" onRetry={keys.reload}>
            {keys.error}
          </StateMessage>
        ) : (
          <StateMessage kind="loading" title="Loading keys…" />
        )
      ) : total === 0 ? (
        <StateMessage kind="empty" title="No key reported yet">
          Keys appear here when agents report them. Start an agent on each validator server (see docs/agent.md).
        </StateMessage>
      ) : (
        // biome-ignore lint/a11y/noStaticElementInteractions: arrow keys pressed on a row's link move focus to the next row
        <div className="keytable" ref={scrollRef} onKeyDown={onKeyDown}>
          <table aria-rowcount={n + 1} aria-describedby={ids.count}>
            <caption className="sr-only">
              Keys of the fleet; sort with the column buttons, move with the arrow keys
            </caption>
            <thead ref={headRef}>
              <tr aria-rowindex={1} className="kt-row">
                {COLUMNS.map((c) => (
                  <th
                    key={c.key}
                    scope="col"
                    className={c.className}
                    aria-sort={q.sort === c.key ? (q.desc ? "descending" : "ascending") : "none"}
                  >
                    <button type="button" className="sort" onClick={() => sortBy(c.key)}>
                      {c.label}
                      <span aria-hidden="true">{q.sort === c.key ? (q.desc ? " ▼" : " ▲") : ""}</span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody style={{ height: virtualizer.getTotalSize() }}>
              {virtualizer.getVirtualItems().map((item) => {
                const row = rowAt(item.index);
                if (row === undefined) return null;
                return (
                  <tr
                    key={`${row.pubkey}.${row.host_id}`}
                    aria-rowindex={item.index + 2}
                    data-index={item.index}
                    className="kt-row"
                    style={{ transform: `translateY(${item.start - scrollMargin}px)`, height: item.size }}
                  >
                    <td className="c-key">
                      <Link to={`/keys/${row.pubkey}`}>
                        <code title={row.pubkey}>{shortKey(row.pubkey, 10, 6)}</code>
                        <span className="sr-only"> on {row.host}: open its timeline</span>
                      </Link>
                    </td>
                    <td className="c-chain">{row.chain}</td>
                    <td className="c-host">{row.host}</td>
                    <td className="c-status">
                      <StatusCell row={row} />
                    </td>
                    <td className="c-changed">
                      <Time iso={row.changed_at} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {n === 0 && (
            <StateMessage kind="empty" title="No key matches these filters">
              Shorten the prefix or choose “All” in a filter.
            </StateMessage>
          )}
        </div>
      )}
    </section>
  );
}
