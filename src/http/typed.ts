import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";

/** A Fastify instance whose routes take their input and answer types from their TypeBox schemas. */
export type TypedApp = ReturnType<typeof typed>;

/**
 * Call first in a route plugin: its routes validate `params`, `querystring` and `body` with TypeBox
 * (a failure answers 400 ERR_BAD_REQUEST through plugins/errorHandler.ts) and their handlers see the
 * types the schemas state. `response` schemas type what a handler returns; answers are still written
 * with JSON.stringify, so a field the schema does not list is never dropped silently.
 */
export function typed(app: FastifyInstance) {
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  return app.withTypeProvider<TypeBoxTypeProvider>();
}
