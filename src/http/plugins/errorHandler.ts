import type { FastifyError, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { isAppError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";

/** Maps an error code to an HTTP status; codes not listed answer 400 if they are client errors, else 500. */
export type StatusOf = (code: string) => number | undefined;

export interface ErrorHandlerOptions {
  logger: Logger;
  statusOf: StatusOf;
}

/**
 * The one error handler of the HTTP API: typed errors answer `{code, message}` with the status their
 * code maps to (slashing-protection refusals: 412); a schema validation failure answers 400
 * ERR_BAD_REQUEST like a route's own input checks; Fastify's own client errors (body too
 * large, bad JSON) keep their 4xx status; anything else is logged and answered with a generic 500.
 */
async function errorHandler(app: FastifyInstance, opts: ErrorHandlerOptions): Promise<void> {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    // refused before its body was read (auth, Host): close rather than read and discard the rest of it
    if (!req.raw.complete) reply.header("connection", "close");
    if (isAppError(err)) {
      const status = opts.statusOf(err.code) ?? 500;
      if (status >= 500) opts.logger.error("Request failed", { code: err.code }, err);
      return reply.status(status).send({ code: err.code, message: err.message });
    }
    if (err.validation !== undefined) {
      // a route's schema (src/schemas/) refused the input: the same typed code as the routes' own checks
      return reply.status(400).send({ code: "ERR_BAD_REQUEST", message: err.message });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      const code =
        status === 413 ? "ERR_BODY_TOO_LARGE" : status === 415 ? "ERR_UNSUPPORTED_MEDIA_TYPE" : "ERR_BAD_REQUEST";
      return reply.status(status).send({ code, message: err.message });
    }
    opts.logger.error("Unexpected error in request", {}, err);
    return reply.status(500).send({ code: "ERR_INTERNAL", message: "internal error" });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ code: "ERR_NOT_FOUND", message: `no route ${req.method} ${req.url.split("?")[0]}` });
  });
}

export default fp(errorHandler, { name: "slashguard-error-handler" });
