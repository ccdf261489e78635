import type { FastifyInstance } from "fastify";
import { FailoverErrorCode } from "../../../failover/errors.js";
import { serializeValidatorState, type ValidatorState } from "../../../failover/stateFile.js";
import type { FailoverStatus } from "../../../failover/status.js";

/** What the routes need from the failover daemon. */
export interface FailoverApi {
  readonly healthy: boolean;
  status(): FailoverStatus;
  validatorState(): Promise<ValidatorState | null>;
}

export interface FailoverRoutesOptions {
  daemon: FailoverApi;
}

/**
 * Read-only API of `slashguard failover` (peers and operators): /health (200 when the node is healthy,
 * 503 otherwise), /status (role, lease holder and epoch, last signed height, last health results) and
 * /validator_state (the node's priv_validator_state.json as it is now, in the node's own format).
 * /metrics comes from the base app. Nothing here changes state, and no key material is ever served.
 */
export async function failoverRoutes(app: FastifyInstance, opts: FailoverRoutesOptions): Promise<void> {
  app.get("/health", async (_req, reply) => {
    const s = opts.daemon.status();
    return reply
      .status(opts.daemon.healthy ? 200 : 503)
      .send({ status: opts.daemon.healthy ? "UP" : "DOWN", node_id: s.node_id, role: s.role, checks: s.health.checks });
  });
  app.get("/status", async () => opts.daemon.status());
  app.get("/validator_state", async (_req, reply) => {
    const state = await opts.daemon.validatorState();
    if (state === null) {
      return reply
        .status(404)
        .send({ code: "ERR_FAILOVER_STATE_MISSING", message: "no priv_validator_state.json yet" });
    }
    return reply.type("application/json").send(serializeValidatorState(state));
  });
}

/** HTTP status for failover error codes (composed with the signer's table in cli/). */
export function failoverStatusOf(code: string): number | undefined {
  if (code === FailoverErrorCode.StateInvalid) return 503;
  return undefined;
}
