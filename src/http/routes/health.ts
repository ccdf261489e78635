import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { HealthBody } from "../../schemas/common.js";
import type { HealthReport } from "../../signer/index.js";
import { typed } from "../typed.js";

export interface HealthRoutesOptions {
  registry: Registry;
  /** Aggregated health of the store and every running service. */
  health: () => Promise<HealthReport>;
}

/** /upcheck (process alive), /healthcheck (store and services), /metrics (Prometheus). */
export async function healthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): Promise<void> {
  const api = typed(app);
  api.get("/upcheck", async (_req, reply) => reply.type("text/plain").send("OK"));
  api.get("/healthcheck", { schema: { response: { 200: HealthBody, 503: HealthBody } } }, async (_req, reply) => {
    const report = await opts.health();
    return reply.status(report.ok ? 200 : 503).send({ status: report.ok ? "UP" : "DOWN", checks: report.checks });
  });
  api.get("/metrics", async (_req, reply) => reply.type(opts.registry.contentType).send(await opts.registry.metrics()));
}
