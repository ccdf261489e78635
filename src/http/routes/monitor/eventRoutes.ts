import type { FastifyInstance } from "fastify";
import type { AlertService } from "../../../alerts/alertService.js";
import { applySignerEvents } from "../../../alerts/signerEvents.js";
import { parseSignerEvents } from "../../../detect/signerEvents.js";
import type { TokenService } from "../../../fleet/tokens.js";
import { authHook, REPORTERS, requireRole } from "./auth.js";

export interface EventRoutesServices {
  tokens: TokenService;
  alerts: AlertService;
}

/**
 * `POST /api/v1/agent/events`: a signer on another machine raises and clears its alerts (doppelganger
 * detected, doppelganger check failing, database not failover-safe, store went backwards) with an agent
 * token; they belong to the token's owner. Only the source and token that raised an alert may clear it
 * (an operator resolves it, an admin token clears any).
 * Registered after monitorRoutes (which declares the request decoration).
 */
export async function eventRoutes(app: FastifyInstance, s: EventRoutesServices): Promise<void> {
  await app.register(
    async (api) => {
      api.addHook("onRequest", authHook(s.tokens));
      api.post("/agent/events", { bodyLimit: 4 << 20 }, async (req, reply) => {
        const auth = requireRole(req, REPORTERS);
        const ownerId = auth.role === "admin" ? null : auth.ownerId;
        const events = parseSignerEvents(req.body);
        await applySignerEvents(s.alerts, events, ownerId, { tokenId: auth.tokenId, admin: auth.role === "admin" });
        return reply.status(202).send({ accepted: events.length });
      });
    },
    { prefix: "/api/v1" },
  );
}
