import type { ServerOptions as HttpsOptions } from "node:https";
import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { HealthReport } from "../signer/index.js";
import type { Logger } from "../util/logger.js";
import {
  clientErrorHandler,
  DEFAULT_HTTP_LIMITS,
  enforceHostAllowList,
  frameworkErrors,
  type HttpLimits,
} from "./hardening.js";
import errorHandler, { type StatusOf } from "./plugins/errorHandler.js";
import jsonDepth from "./plugins/jsonDepth.js";
import { healthRoutes } from "./routes/health.js";

export interface HttpAppOptions {
  /** Largest request body accepted (bytes); bigger ones get 413 before any parsing. */
  bodyLimit?: number;
  /** HTTPS options for Fastify (the server is created with the app). */
  https?: HttpsOptions;
  /** Host names a request's `Host` header may carry (`*`: any); absent: no check. */
  hostAllowlist?: readonly string[];
  /** Timeouts and connection caps (defaults: DEFAULT_HTTP_LIMITS). */
  limits?: Partial<HttpLimits>;
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
  const limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  // Node checks request and header timeouts on this interval (its default, 30 s, would let a trickled
  // request live that much past its timeout).
  const checkEvery =
    limits.requestTimeoutMs > 0 ? Math.min(5000, Math.max(250, Math.floor(limits.requestTimeoutMs / 4))) : 30_000;
  const common = {
    logger: false,
    bodyLimit: opts.bodyLimit ?? 1 << 20,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    clientErrorHandler: clientErrorHandler(modules.logger),
    frameworkErrors,
  } as const;
  const app = (opts.https === undefined
    ? Fastify({ ...common, http: { connectionsCheckingInterval: checkEvery } })
    : Fastify({
        ...common,
        https: { ...opts.https, connectionsCheckingInterval: checkEvery } as HttpsOptions,
      })) as unknown as FastifyInstance;
  if (limits.requestTimeoutMs > 0) app.server.headersTimeout = Math.min(limits.requestTimeoutMs, 60_000);
  if (limits.maxConnections > 0) app.server.maxConnections = limits.maxConnections;
  await app.register(errorHandler, { logger: modules.logger, statusOf: modules.statusOf });
  // first onRequest hook: a request for another host is refused before any other work
  if (opts.hostAllowlist !== undefined) enforceHostAllowList(app, opts.hostAllowlist);
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
