import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../util/errors.js";

export class AuthError extends AppError<{ code: "ERR_UNAUTHORIZED" }> {}

/** An onRequest hook (runs before the body is read) that admits requests carrying `Authorization: Bearer <token>` (compared in constant time). */
export function bearerAuth(token: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const want = Buffer.from(token, "utf8");
  return async (req) => {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const got = Buffer.from(m?.[1]?.trim() ?? "", "utf8");
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      throw new AuthError({ code: "ERR_UNAUTHORIZED" }, "missing or wrong bearer token");
    }
  };
}
