import { AppError } from "../../util/errors.js";

export type SinkErrorType = {
  code: "ERR_SINK_DELIVERY";
  sink: string;
  /** Worth retrying (network error, 5xx, 429); false for a refusal that will not change (4xx). */
  retryable: boolean;
  /** The receiver's own back-off (429 Retry-After / retry_after), if it gave one. */
  retryAfterMs: number | null;
  status: number | null;
};

export class SinkError extends AppError<SinkErrorType> {}

export function sinkError(
  sink: string,
  message: string,
  f: Partial<Omit<SinkErrorType, "code" | "sink">> = {},
): SinkError {
  return new SinkError(
    {
      code: "ERR_SINK_DELIVERY",
      sink,
      retryable: f.retryable ?? true,
      retryAfterMs: f.retryAfterMs ?? null,
      status: f.status ?? null,
    },
    message,
  );
}
