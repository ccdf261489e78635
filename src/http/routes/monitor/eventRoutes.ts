import type { FastifyInstance } from "fastify";
import type { AlertService } from "../../../alerts/index.js";
import { applySignerEvents } from "../../../alerts/index.js";
import { parseSignerEvents } from "../../../detect/index.js";
import type { TokenService } from "../../../fleet/index.js";
import { EventsAccepted } from "../../../schemas/alerts.js";
import { typed } from "../../typed.js";
import { authHook, authOf, REPORTERS, roles } from "./auth.js";

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
    async (plugin) => {
      const api = typed(plugin);
      api.addHook("onRequest", authHook(s.tokens));
      // The body is parsed by detect/signerEvents.ts (typed errors per event).
      const opts = {
        bodyLimit: 4 << 20,
        preValidation: roles(REPORTERS),
        schema: { response: { 202: EventsAccepted } },
      };
      api.post("/agent/events", opts, async (req, reply) => {
        const auth = authOf(req);
        const ownerId = auth.role === "admin" ? null : auth.ownerId;
        const events = parseSignerEvents(req.body);
        await applySignerEvents(s.alerts, events, ownerId, { tokenId: auth.tokenId, admin: auth.role === "admin" });
        return reply.status(202).send({ accepted: events.length });
      });
    },
    { prefix: "/api/v1" },
  );
}
