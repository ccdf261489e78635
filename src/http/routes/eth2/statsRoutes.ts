import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { SignerStats, StatsQuery } from "../../../schemas/eth2.js";
import { typed } from "../../typed.js";
import { parseLimit } from "../monitor/params.js";
import type { SignStats } from "./signStats.js";

export interface StatsRoutesOptions {
  stats: SignStats;
  keyCount: () => number;
}

const DEFAULT_MINUTES = 60;

/**
 * `GET /api/v1/eth2/stats?minutes=60`: keys loaded and signatures / refusals per minute (the dashboard's
 * signer view). No token, like /metrics and publicKeys: it holds the same counters and no key material.
 */
export async function statsRoutes(app: FastifyInstance, opts: StatsRoutesOptions): Promise<void> {
  const api = typed(app);
  const schema = { querystring: StatsQuery, response: { 200: Type.Object({ data: SignerStats }) } };
  api.get("/api/v1/eth2/stats", { schema }, async (req) => {
    const n = parseLimit(req.query.minutes, DEFAULT_MINUTES, STATS_KEEP_MINUTES);
    await opts.stats.sample();
    return {
      data: {
        keys_loaded: opts.keyCount(),
        since: new Date(opts.stats.since).toISOString(),
        minutes: opts.stats.minutes(n).map((m) => ({
          minute: new Date(m.minute).toISOString(),
          signed: m.signed,
          refused: m.refused,
          refused_by_code: m.refusedByCode,
        })),
      },
    };
  });
}

/** Three hours of minutes: enough to see an incident unfold, small enough to keep in memory. */
export const STATS_KEEP_MINUTES = 180;
