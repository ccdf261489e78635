import fc from "fast-check";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFailoverMetrics } from "../../src/failover/metrics.js";
import type { FailoverStatus } from "../../src/failover/status.js";
import { buildHttpApp } from "../../src/http/app.js";
import { failoverRoutes, failoverStatusOf } from "../../src/http/routes/failover/failoverRoutes.js";
import { httpStatusOf } from "../../src/http/statusCodes.js";
import { nullLogger } from "../../src/util/logger.js";
import { fuzzRuns, fuzzSeed, hostileBody, type RawBody } from "./fuzzInputs.js";

/**
 * Issue 15, "keep probing": the failover peer API (`slashguard failover`: /health, /status,
 * /validator_state, /metrics), served on a loopback port the way the daemon serves it, gets every method,
 * junk paths and queries, and hostile bodies. It is read-only: anything but a read answers a typed 4xx,
 * never a 5xx; reads never reach anything that changes state (the daemon stand-in counts calls).
 */
const RUNS = fuzzRuns(400);
const SEED = fuzzSeed() + 3;

const STATUS: FailoverStatus = {
  node_id: "a",
  role: "active",
  primary: true,
  ready: true,
  validator_address: "AB".repeat(20),
  lease: {
    store: "postgres",
    holder: "a",
    epoch: "7",
    live: true,
    held_by_me: true,
    remaining_ms: 9000,
    self_stop_in_ms: 4000,
    handover_to: null,
    error: null,
  },
  node: { running: true, starting: false, key: "validator" },
  last_signed_height: "12345",
  health: { healthy: true, at: "2026-01-01T00:00:00.000Z", checks: [] },
  last_event: null,
};

let base = "";
let close: () => Promise<void> = async () => {};
const reads = { status: 0, state: 0 };

describe(`failover peer API fuzz (seed ${SEED}, ${RUNS} runs)`, () => {
  beforeAll(async () => {
    const daemon = {
      healthy: true,
      status: () => {
        reads.status++;
        return STATUS;
      },
      validatorState: async () => {
        reads.state++;
        return { height: 12345n, round: 0, step: 3, signature: "AA==" };
      },
    };
    const registry = new Registry();
    createFailoverMetrics(registry);
    const app = await buildHttpApp(
      {},
      {
        logger: nullLogger,
        registry,
        health: async () => ({ ok: true, checks: {} }),
        statusOf: (c) => failoverStatusOf(c) ?? httpStatusOf(c),
      },
    );
    await app.register(failoverRoutes, { daemon });
    base = await app.listen({ host: "127.0.0.1", port: 0 });
    close = () => app.close();
    console.log(`failover API fuzz seed ${SEED} (SLASHGUARD_FUZZ_SEED + 3), ${RUNS} runs (SLASHGUARD_FUZZ_RUNS)`);
  });
  afterAll(async () => {
    await close();
  });

  it("only reads answer 2xx; everything else is a typed 4xx", async () => {
    const paths = fc.oneof(
      fc.constantFrom("/health", "/status", "/validator_state", "/metrics", "/upcheck", "/healthcheck"),
      fc.constantFrom("/status/", "//status", "/status%00", "/STATUS", "/validator_state/../status", "/%ff"),
      fc.string({ maxLength: 30 }).map((s) => `/${encodeURIComponent(s)}`),
    );
    const query = fc.oneof(
      fc.constant(""),
      fc.string({ maxLength: 30 }).map((s) => `?${encodeURIComponent(s)}=1`),
    );
    const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
    await fc.assert(
      fc.asyncProperty(
        method,
        paths,
        query,
        hostileBody({ oversizeBytes: 2 << 20 }),
        async (m, path, q, b: RawBody) => {
          const withBody = m !== "GET" && b.oversize === undefined;
          const res = await fetch(`${base}${path}${q}`, {
            method: m,
            ...(withBody && b.body !== null ? { body: b.body, headers: { "content-type": b.contentType ?? "" } } : {}),
          });
          const text = await res.text();
          const what = `${m} ${path}${q} ${withBody ? b.kind : ""} -> ${res.status} ${text.slice(0, 120)}`;
          expect(res.status, what).toBeLessThan(500);
          if (res.status >= 400) {
            const json = JSON.parse(text) as { code?: unknown; message?: unknown };
            expect(json.code, what).toMatch(/^ERR_[A-Z0-9_]+$/);
          } else expect(m, what).toBe("GET");
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect((await fetch(`${base}/status`)).status).toBe(200);
    expect(reads.status + reads.state).toBeGreaterThan(0);
  });
});
