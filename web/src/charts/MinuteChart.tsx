import { useId, useRef } from "react";
import type { MinuteStats } from "../api/types.js";
import { countTicks, useWidth } from "./useWidth.js";

const HALF = 80;
const AXIS_H = 22;
const LEFT = 44;
const PAD_R = 12;
const hm = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/**
 * Signatures per minute above the axis, refusals below it, so a burst of refusals stands out at once.
 * The axis always spans `slots` minutes, the newest on the right; minutes before the signer started
 * stay empty.
 */
export function MinuteChart({ minutes, slots = 60 }: { minutes: MinuteStats[]; slots?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const titleId = useId();
  const n = Math.max(1, slots, minutes.length);
  const offset = n - minutes.length;
  const maxUp = Math.max(1, ...minutes.map((m) => m.signed));
  const maxDown = Math.max(1, ...minutes.map((m) => m.refused));
  const plotW = Math.max(100, width - LEFT - PAD_R);
  const bw = plotW / n;
  const mid = HALF + 6;
  const up = (v: number) => (v / maxUp) * HALF;
  const down = (v: number) => (v / maxDown) * HALF;
  const signed = minutes.reduce((s, m) => s + m.signed, 0);
  const refused = minutes.reduce((s, m) => s + m.refused, 0);
  const labelEvery = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotW / 70))));

  return (
    <div ref={ref} className="chart">
      <svg width={width} height={2 * HALF + 12 + AXIS_H} role="img" aria-labelledby={titleId} className="bars">
        <title id={titleId}>{`Last ${minutes.length} minutes: ${signed} signatures and ${refused} refusals.`}</title>
        {countTicks(maxUp, 2).map((v) => (
          <g key={`u${v}`} className="grid">
            <line x1={LEFT} x2={LEFT + plotW} y1={mid - up(v)} y2={mid - up(v)} />
            <text x={LEFT - 6} y={mid - up(v) + 4} textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        {countTicks(maxDown, 2)
          .filter((v) => v > 0)
          .map((v) => (
            <g key={`d${v}`} className="grid">
              <line x1={LEFT} x2={LEFT + plotW} y1={mid + down(v)} y2={mid + down(v)} />
              <text x={LEFT - 6} y={mid + down(v) + 4} textAnchor="end">
                {v}
              </text>
            </g>
          ))}
        {minutes.map((m, i) => {
          const x = LEFT + (offset + i) * bw + bw * 0.15;
          const w = Math.max(1, bw * 0.7);
          const t = Date.parse(m.minute);
          return (
            <g key={m.minute}>
              {m.signed > 0 && (
                <rect x={x} y={mid - up(m.signed)} width={w} height={up(m.signed)} className="bar-signed" />
              )}
              {m.refused > 0 && <rect x={x} y={mid} width={w} height={down(m.refused)} className="bar-refused" />}
              <title>{`${hm.format(t)}: ${m.signed} signed, ${m.refused} refused${
                Object.keys(m.refused_by_code).length > 0
                  ? ` (${Object.entries(m.refused_by_code)
                      .map(([c, k]) => `${c} ${k}`)
                      .join(", ")})`
                  : ""
              }`}</title>
            </g>
          );
        })}
        <g className="axis">
          <line x1={LEFT} x2={LEFT + plotW} y1={mid} y2={mid} />
          {minutes.map((m, i) =>
            (minutes.length - 1 - i) % labelEvery === 0 ? (
              <text
                key={m.minute}
                x={Math.min(LEFT + (offset + i + 0.5) * bw, LEFT + plotW)}
                y={2 * HALF + 12 + 16}
                textAnchor={LEFT + (offset + i + 0.5) * bw + 30 > LEFT + plotW ? "end" : "middle"}
              >
                {hm.format(Date.parse(m.minute))}
              </text>
            ) : null,
          )}
        </g>
      </svg>
      <ul className="legend" aria-label="Legend">
        <li>
          <span className="swatch bar-signed" /> signed (per minute, above the line)
        </li>
        <li>
          <span className="swatch bar-refused" /> refused (below the line)
        </li>
      </ul>
    </div>
  );
}
