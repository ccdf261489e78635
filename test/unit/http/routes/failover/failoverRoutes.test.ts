import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { ValidatorState } from "../../../../../src/chains/cometbft/stateFile.js";
import { FailoverError, FailoverErrorCode } from "../../../../../src/failover/errors.js";
import { createFailoverMetrics } from "../../../../../src/failover/metrics.js";
import type { FailoverStatus } from "../../../../../src/failover/status.js";
import { buildHttpApp } from "../../../../../src/http/app.js";
import { failoverRoutes, failoverStatusOf } from "../../../../../src/http/routes/failover/failoverRoutes.js";
import { httpStatusOf } from "../../../../../src/http/statusCodes.js";
import { nullLogger } from "../../../../../src/util/logger.js";

const STATUS: FailoverStatus = {
  node_id: "a",
  role: "active",
  primary: true,
  ready: false,
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
  health: { healthy: true, at: "2026-01-01T00:00:00.000Z", checks: [{ name: "peers", ok: true, detail: "5 peers" }] },
  last_event: null,
};

function api(over: { healthy?: boolean; state?: () => Promise<ValidatorState | null> } = {}) {
  return {
    healthy: over.healthy ?? true,
    status: () => STATUS,
    validatorState: over.state ?? (async () => ({ height: 12345n, round: 0, step: 3, signature: "AA==" })),
  };
}

async function app(daemon: ReturnType<typeof api>) {
  const registry = new Registry();
  createFailoverMetrics(registry).epoch.set(7);
  const a = await buildHttpApp(
    {},
    {
      logger: nullLogger,
      registry,
      health: async () => ({ ok: daemon.healthy, checks: {} }),
      statusOf: (c) => failoverStatusOf(c) ?? httpStatusOf(c),
    },
  );
  await a.register(failoverRoutes, { daemon });
  return a;
}

let open: Awaited<ReturnType<typeof app>> | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe("failover HTTP API", () => {
  it("/status: role, lease holder and epoch, last signed height, health results", async () => {
    open = await app(api());
    const r = await open.inject({ method: "GET", url: "/status" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ role: "active", lease: { holder: "a", epoch: "7" }, last_signed_height: "12345" });
  });

  it("/health answers 200 when healthy and 503 when not", async () => {
    open = await app(api());
    expect((await open.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    await open.close();
    open = await app(api({ healthy: false }));
    const r = await open.inject({ method: "GET", url: "/health" });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ status: "DOWN", role: "active" });
  });

  it("/validator_state serves the state in the node's own format; a broken file is 503, none is 404", async () => {
    open = await app(api());
    const r = await open.inject({ method: "GET", url: "/validator_state" });
    expect(r.json()).toEqual({ height: "12345", round: 0, step: 3, signature: "AA==" });
    await open.close();
    open = await app(api({ state: async () => null }));
    expect((await open.inject({ method: "GET", url: "/validator_state" })).statusCode).toBe(404);
    await open.close();
    open = await app(
      api({
        state: async () => {
          throw new FailoverError({ code: FailoverErrorCode.StateInvalid, file: "f", field: "height" }, "bad");
        },
      }),
    );
    const bad = await open.inject({ method: "GET", url: "/validator_state" });
    expect(bad.statusCode).toBe(503);
    expect(bad.json().code).toBe(FailoverErrorCode.StateInvalid);
  });

  it("/metrics exposes the failover metrics", async () => {
    open = await app(api());
    const r = await open.inject({ method: "GET", url: "/metrics" });
    expect(r.body).toContain("slashguard_failover_epoch 7");
    expect(r.body).toContain("slashguard_failover_lease_renewals_total");
  });
});
