import { percent } from "../format.js";

/**
 * How sure the monitor is (0..1) as a native meter (announced with its value) and as text. The
 * meter's regions follow the danger: above 80% is drawn as the worst, below 50% as the mildest.
 */
export function ConfidenceBar({ value }: { value: number }) {
  const v = Math.max(0, Math.min(1, value));
  return (
    <div className="confidence">
      <span className="confidence-label" aria-hidden="true">
        Confidence
      </span>
      <meter
        className="confidence-meter"
        min={0}
        max={1}
        low={0.5}
        high={0.8}
        optimum={0}
        value={v}
        aria-label={`Confidence ${percent(v)}`}
      >
        {percent(v)}
      </meter>
      <span className="confidence-value">{percent(v)}</span>
    </div>
  );
}
