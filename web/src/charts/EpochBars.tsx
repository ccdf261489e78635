import { useId, useRef } from "react";
import type { Timeline } from "../api/types.js";
import { countTicks, ticks, useWidth } from "./useWidth.js";

const H = 140;
const AXIS_H = 24;
const LEFT = 36;
const PAD_R = 12;

/** Signatures the signer recorded per epoch (attestations, block proposals); empty epochs show as gaps. */
export function EpochBars({ signatures }: { signatures: Timeline["signatures"] }) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const titleId = useId();
  if (signatures.from_epoch === null || signatures.to_epoch === null) return null;
  const first = BigInt(signatures.from_epoch);
  const n = Number(BigInt(signatures.to_epoch) - first) + 1;
  const byOffset = new Map(signatures.epochs.map((e) => [Number(BigInt(e.epoch) - first), e]));
  const max = Math.max(1, ...signatures.epochs.map((e) => e.attestations + e.blocks));
  const plotW = Math.max(100, width - LEFT - PAD_R);
  const bw = plotW / n;
  const y = (v: number) => H - (v / max) * (H - 10);
  const empty = n - byOffset.size;
  const epochTicks = ticks(0, n - 1, Math.max(2, Math.floor(plotW / 110))).filter((t) => Number.isInteger(t));
  const total = signatures.epochs.reduce((s, e) => s + e.attestations, 0);
  const blocks = signatures.epochs.reduce((s, e) => s + e.blocks, 0);

  return (
    <div ref={ref} className="chart">
      <svg width={width} height={H + AXIS_H} role="img" aria-labelledby={titleId} className="bars">
        <title id={titleId}>
          {`Epochs ${signatures.from_epoch} to ${signatures.to_epoch}: ${total} attestations and ${blocks} block proposals signed; ${empty} epochs without a signature.`}
        </title>
        {countTicks(max, 3).map((v) => (
          <g key={v} className="grid">
            <line x1={LEFT} x2={LEFT + plotW} y1={y(v)} y2={y(v)} />
            <text x={LEFT - 6} y={y(v) + 4} textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        {Array.from({ length: n }, (_, i) => {
          const e = byOffset.get(i);
          const x = LEFT + i * bw;
          const epoch = (first + BigInt(i)).toString();
          if (e === undefined)
            return (
              <rect
                key={epoch}
                x={x + bw * 0.15}
                y={H - 3}
                width={Math.max(1, bw * 0.7)}
                height={3}
                className="bar-gap"
              >
                <title>{`epoch ${epoch}: no signature recorded`}</title>
              </rect>
            );
          return (
            <g key={epoch}>
              <rect
                x={x + bw * 0.15}
                y={y(e.attestations)}
                width={Math.max(1, bw * 0.7)}
                height={H - y(e.attestations)}
                className="bar-att"
              />
              {e.blocks > 0 && (
                <rect
                  x={x + bw * 0.15}
                  y={y(e.attestations + e.blocks)}
                  width={Math.max(1, bw * 0.7)}
                  height={y(e.attestations) - y(e.attestations + e.blocks)}
                  className="bar-block"
                />
              )}
              <title>{`epoch ${epoch}: ${e.attestations} attestation${e.attestations === 1 ? "" : "s"}, ${e.blocks} block${e.blocks === 1 ? "" : "s"}`}</title>
            </g>
          );
        })}
        <g className="axis">
          <line x1={LEFT} x2={LEFT + plotW} y1={H} y2={H} />
          {epochTicks.map((t) => (
            <text key={t} x={LEFT + (t + 0.5) * bw} y={H + 16} textAnchor="middle">
              {(first + BigInt(t)).toString()}
            </text>
          ))}
        </g>
      </svg>
      <ul className="legend" aria-label="Legend">
        <li>
          <span className="swatch bar-att" /> attestations
        </li>
        <li>
          <span className="swatch bar-block" /> block proposals
        </li>
        <li>
          <span className="swatch bar-gap" /> epoch without a signature
        </li>
      </ul>
    </div>
  );
}
