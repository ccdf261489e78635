import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { serializeValidatorState, type ValidatorState } from "../../../chains/cometbft/index.js";
import type { FailoverStatus } from "../../../failover/index.js";
import { FailoverErrorCode, PEER_AUTH_HEADER, PEER_NONCE_HEADER, type PeerToken } from "../../../failover/index.js";
import { FailoverHealth } from "../../../schemas/failover.js";
import { typed } from "../../typed.js";

/** What the routes need from the failover daemon. */
export interface FailoverApi {
  readonly healthy: boolean;
  status(): FailoverStatus;
  validatorState(): Promise<ValidatorState | null>;
}

export interface FailoverRoutesOptions {
  daemon: FailoverApi;
  /**
   * Shared peer token: /status and /validator_state then answer only requests signed with it, and sign
   * every answer for the caller's nonce (failover/peerAuth.ts). /health and /metrics stay open.
   */
  peerToken?: PeerToken | null;
}

/**
 * Read-only API of `slashguard failover` (peers and operators): /health (200 when the node is healthy,
 * 503 otherwise), /status (role, lease holder and epoch, last signed height, last health results) and
 * /validator_state (the node's priv_validator_state.json as it is now, in the node's own format).
 * /metrics comes from the base app. Nothing here changes state, and no key material is ever served.
 */
export async function failoverRoutes(app: FastifyInstance, opts: FailoverRoutesOptions): Promise<void> {
  const api = typed(app);
  const health = { response: { 200: FailoverHealth, 503: FailoverHealth } };
  // /status and /validator_state take no input and answer JSON text signed as sent (peer token).
  api.get("/health", { schema: health }, async (_req, reply) => {
    const s = opts.daemon.status();
    return reply
      .status(opts.daemon.healthy ? 200 : 503)
      .send({ status: opts.daemon.healthy ? "UP" : "DOWN", node_id: s.node_id, role: s.role, checks: s.health.checks });
  });
  const token = opts.peerToken ?? null;
  /** Sends JSON text; with a token, only to a signed request, and signed for its nonce. */
  const answer = (req: FastifyRequest, reply: FastifyReply, path: string, status: number, text: string) => {
    if (token !== null) {
      const nonce = req.headers[PEER_NONCE_HEADER];
      if (!token.verifyRequest("GET", path, nonce, req.headers[PEER_AUTH_HEADER])) {
        return reply
          .status(401)
          .send({ code: FailoverErrorCode.PeerAuth, message: "this endpoint needs the peer token" });
      }
      reply.header(PEER_AUTH_HEADER, token.responseMac(nonce as string, text));
    }
    return reply.status(status).type("application/json").send(text);
  };
  api.get("/status", async (req, reply) => answer(req, reply, "/status", 200, JSON.stringify(opts.daemon.status())));
  api.get("/validator_state", async (req, reply) => {
    const state = await opts.daemon.validatorState();
    if (state === null) {
      const missing = { code: "ERR_FAILOVER_STATE_MISSING", message: "no priv_validator_state.json yet" };
      return answer(req, reply, "/validator_state", 404, JSON.stringify(missing));
    }
    return answer(req, reply, "/validator_state", 200, serializeValidatorState(state));
  });
}

/** HTTP status for failover error codes (composed with the signer's table in cli/). */
export function failoverStatusOf(code: string): number | undefined {
  if (code === FailoverErrorCode.StateInvalid) return 503;
  return undefined;
}
