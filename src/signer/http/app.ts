import type { ServerOptions as HttpsOptions } from "node:https";
import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { Logger } from "../../util/logger.js";
import type { HealthReport } from "../common/service.js";
import errorHandler, { type StatusOf } from "./plugins/errorHandler.js";
import jsonDepth from "./plugins/jsonDepth.js";
import { healthRoutes } from "./routes/health.js";

export interface HttpAppOptions {
  /** Largest request body accepted (bytes); bigger ones get 413 before any parsing. */
  bodyLimit?: number;
  /** HTTPS options for Fastify (the server is created with the app). */
  https?: HttpsOptions;
}

export interface HttpAppModules {
  logger: Logger;
  registry: Registry;
  health: () => Promise<HealthReport>;
  statusOf: StatusOf;
}

/**
 * Builds the HTTP app (never listens; tests use inject). Areas register their routes on the returned
 * instance before it starts listening (see signer sections).
 */
export async function buildHttpApp(opts: HttpAppOptions, modules: HttpAppModules): Promise<FastifyInstance> {
  const app = (opts.https === undefined
    ? Fastify({ logger: false, bodyLimit: opts.bodyLimit ?? 1 << 20 })
    : Fastify({
        logger: false,
        bodyLimit: opts.bodyLimit ?? 1 << 20,
        https: opts.https,
      })) as unknown as FastifyInstance;
  await app.register(errorHandler, { logger: modules.logger, statusOf: modules.statusOf });
  await app.register(jsonDepth);
  app.addHook("onResponse", async (req, reply) => {
    modules.logger.debug("HTTP request", {
      method: req.method,
      url: req.url.split("?")[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });
  await app.register(healthRoutes, { registry: modules.registry, health: modules.health });
  return app;
}
