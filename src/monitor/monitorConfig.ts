import { z } from "zod";
import { DEFAULT_MAX_REPORT_BYTES } from "../fleet/index.js";

const DURATION_RE = /^([0-9]+)(ms|s|m|h|d)$/;
const duration = z
  .union([z.number().int().positive(), z.string().regex(DURATION_RE, "a duration such as 500ms, 15s, 2m, 1h or 1d")])
  .transform((v) => (typeof v === "number" ? v : durationMs(v)));

/** The `monitor:` section of the YAML config (flags win). */
export const monitorSectionSchema = z
  .object({
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(9100),
    dedup_window: duration.default(86_400_000),
    resolve_after: duration.default(30_000),
    sweep_interval: duration.default(5000),
    silent_after_intervals: z.number().int().min(1).max(1000).default(3),
    key_moved_window: duration.default(3_600_000),
    detect_workers: z.number().int().min(0).max(64).default(1),
    detect_batch_size: z.number().int().min(1).max(100_000).default(1000),
    /** Sized for the documented maximum report (10,000 keys of the largest entry, see reportFormat.ts). */
    max_report_bytes: z
      .number()
      .int()
      .min(1024)
      .max(64 << 20)
      .default(DEFAULT_MAX_REPORT_BYTES),
    /** Reports per host (token bucket): 429 with Retry-After past it. */
    report_rate: z
      .object({
        per_minute: z.number().positive().max(60_000).default(30),
        burst: z.number().int().min(1).max(10_000).default(10),
      })
      .strict()
      .default({ per_minute: 30, burst: 10 }),
    /** Bounds on what churn leaves in the database. */
    history: z
      .object({
        /** Intervals kept per key and host; past it the oldest are merged down to half. */
        max_intervals: z.number().int().min(4).max(100_000).default(16),
        /** Closed intervals, and keys gone from their host, are deleted after this. */
        retention: duration.default(90 * 86_400_000),
        /** Report bodies kept per host (history keeps the ids of older ones). */
        reports_kept: z.number().int().min(1).max(10_000).default(5),
      })
      .strict()
      .default({ max_intervals: 16, retention: 90 * 86_400_000, reports_kept: 5 }),
    notification_poll: duration.default(1000),
    notification_lease: duration.default(60_000),
    /** Serve the web dashboard at `/` (false: API only). */
    dashboard: z.boolean().default(true),
    /** Live alert feeds (`/api/v1/feed`) one token may hold open; one more gets 429 ERR_FEED_LIMIT. */
    feeds_per_token: z.number().int().min(1).max(1000).default(8),
    ethereum: z
      .object({
        /** Beacon nodes for the continuous foreign-signer check (off without any). */
        beacon_nodes: z.array(z.string().url()).default([]),
        beacon_timeout: duration.default(4000),
        /** Fleet owner of alerts about keys no agent reports (keys of the signing log only). */
        owner: z.string().min(1).max(100).optional(),
        /** Remote-signer URLs that count as ours; empty: any remote signer an agent reports. */
        expected_signers: z.array(z.string().url()).default([]),
        workers: z.number().int().min(0).max(64).default(1),
        batch_size: z.number().int().min(1).max(100_000).default(1000),
      })
      .strict()
      .default({ beacon_nodes: [], beacon_timeout: 4000, expected_signers: [], workers: 1, batch_size: 1000 }),
  })
  .strict();

export type MonitorSection = z.infer<typeof monitorSectionSchema>;

function durationMs(v: string): number {
  const m = DURATION_RE.exec(v.trim());
  if (m === null) throw new Error(`bad duration ${v}`);
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as Record<string, number>)[m[2]!]!;
}
