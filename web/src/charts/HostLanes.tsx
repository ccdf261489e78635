import { useId, useMemo, useRef } from "react";
import { kindLabel } from "../alerts/kinds.js";
import type { Alert, HistoryInterval } from "../api/types.js";
import { absoluteTime } from "../format.js";
import { timeTickFormat, useWidth } from "./useWidth.js";

const LABEL_W = 130;
const LANE_H = 30;
const AXIS_H = 26;
const PAD_R = 12;

type State = "active" | "present" | "absent";
const stateOf = (i: HistoryInterval): State => (i.active ? "active" : i.present ? "present" : "absent");
const STATE_LABEL: Record<State, string> = { active: "signing", present: "loaded, not signing", absent: "not loaded" };

/**
 * Which host held the key in which state when: one lane per host (signing, loaded but not signing,
 * stale where the node could not be asked), and a lane of the key's alerts, on one time axis.
 */
export function HostLanes({ intervals, alerts, now }: { intervals: HistoryInterval[]; alerts: Alert[]; now: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const titleId = useId();
  const patternId = `stale${useId().replace(/[^A-Za-z0-9_-]/g, "")}`;

  const { hosts, t0, t1 } = useMemo(() => {
    const hosts = [...new Set(intervals.map((i) => i.host))];
    const starts = [...intervals.map((i) => Date.parse(i.from)), ...alerts.map((a) => Date.parse(a.first_seen))];
    const t0 = starts.length === 0 ? now - 3_600_000 : Math.min(...starts);
    return { hosts, t0, t1: Math.max(now, t0 + 60_000) };
  }, [intervals, alerts, now]);

  const plotW = Math.max(100, width - LABEL_W - PAD_R);
  const x = (t: number) => LABEL_W + ((t - t0) / (t1 - t0)) * plotW;
  const lanes = [...hosts, "alerts"];
  const height = lanes.length * LANE_H + AXIS_H;
  const tickCount = Math.max(2, Math.floor(plotW / 150));
  const timeFmt = timeTickFormat(t1 - t0);
  const tickTimes = Array.from({ length: tickCount + 1 }, (_, i) => t0 + ((t1 - t0) * i) / tickCount);
  const summary = `${hosts.length} host${hosts.length === 1 ? "" : "s"} held this key between ${absoluteTime(t0)} and now; ${alerts.length} alert${alerts.length === 1 ? "" : "s"}.`;

  return (
    <div ref={ref} className="chart">
      <svg width={width} height={height} role="img" aria-labelledby={titleId} className="lanes">
        <title id={titleId}>{summary}</title>
        <defs>
          <pattern id={patternId} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" className="stale-bg" />
            <line x1="0" y1="0" x2="0" y2="6" className="stale-line" />
          </pattern>
        </defs>
        {lanes.map((h, li) => (
          <g key={h} transform={`translate(0 ${li * LANE_H})`}>
            <rect x={LABEL_W} y={2} width={plotW} height={LANE_H - 4} className="lane-bg" />
            <text x={LABEL_W - 8} y={LANE_H / 2 + 4} textAnchor="end" className="lane-label">
              {h === "alerts" ? "Alerts" : h}
            </text>
          </g>
        ))}
        {intervals.map((i) => {
          const li = hosts.indexOf(i.host);
          const from = Date.parse(i.from);
          const to = i.to === null ? t1 : Date.parse(i.to);
          const s = stateOf(i);
          if (s === "absent") return null;
          return (
            <rect
              key={`${i.host_id}|${i.chain}|${i.from}|${i.to}`}
              x={x(from)}
              y={li * LANE_H + 5}
              width={Math.max(2, x(to) - x(from))}
              height={LANE_H - 10}
              className={i.stale ? "iv iv-stale" : `iv iv-${s}`}
              fill={i.stale ? `url(#${patternId})` : undefined}
            >
              <title>{`${i.host}: ${STATE_LABEL[s]}${i.stale ? " (stale: node unreachable)" : ""}, ${absoluteTime(from)} – ${i.to === null ? "now" : absoluteTime(to)}`}</title>
            </rect>
          );
        })}
        {alerts.map((a) => {
          const from = Date.parse(a.first_seen);
          const to =
            a.resolved_at !== null ? Date.parse(a.resolved_at) : a.status === "resolved" ? Date.parse(a.last_seen) : t1;
          const y = hosts.length * LANE_H;
          return (
            <g key={a.id} className={`al al-${a.severity}`}>
              <rect x={x(from)} y={y + 8} width={Math.max(3, x(to) - x(from))} height={LANE_H - 16} />
              <circle cx={x(from)} cy={y + LANE_H / 2} r={6} />
              <title>{`${kindLabel(a.kind)} (#${a.id}, ${a.status}) from ${absoluteTime(from)}${a.resolved_at !== null ? ` to ${absoluteTime(to)}` : ""}: ${a.summary}`}</title>
            </g>
          );
        })}
        <g transform={`translate(0 ${lanes.length * LANE_H})`} className="axis">
          <line x1={LABEL_W} x2={LABEL_W + plotW} y1={2} y2={2} />
          {tickTimes.map((t, k) => (
            <text key={t} x={x(t)} y={18} textAnchor={k === 0 ? "start" : k === tickCount ? "end" : "middle"}>
              {timeFmt.format(t)}
            </text>
          ))}
        </g>
      </svg>
      <ul className="legend" aria-label="Legend">
        <li>
          <span className="swatch iv-active" /> signing
        </li>
        <li>
          <span className="swatch iv-present" /> loaded, not signing
        </li>
        <li>
          <span className="swatch swatch-stale" /> stale (node unreachable)
        </li>
        <li>
          <span className="swatch al-critical" /> critical alert
        </li>
        <li>
          <span className="swatch al-warning" /> warning / info alert
        </li>
      </ul>
    </div>
  );
}
