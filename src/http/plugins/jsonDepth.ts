import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { checkJsonDepth } from "../../util/jsonDepth.js";

/**
 * Replaces the JSON body parser with one that refuses documents nested deeper than MAX_JSON_DEPTH
 * (400 ERR_JSON_TOO_DEEP) before parsing, then parses with Fastify's own (prototype-poisoning checks kept).
 */
async function jsonDepth(app: FastifyInstance): Promise<void> {
  const parse = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    try {
      checkJsonDepth(body as string);
    } catch (e) {
      done(e as Error, undefined);
      return;
    }
    parse(req, body as string, done);
  });
}

export default fp(jsonDepth, { name: "slashguard-json-depth" });
