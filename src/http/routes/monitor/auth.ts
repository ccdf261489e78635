import type { FastifyReply, FastifyRequest } from "fastify";
import type { AuthContext, TokenService } from "../../../fleet/index.js";
import { AppError } from "../../../util/errors.js";

export class AuthError extends AppError<{ code: "ERR_UNAUTHORIZED" | "ERR_FORBIDDEN" }> {}

declare module "fastify" {
  interface FastifyRequest {
    monitorAuth: AuthContext | null;
  }
}

/**
 * onRequest hook: resolves the bearer token before the body is read, so a request without a valid
 * token is refused (401) before anything is parsed or stored.
 */
export function authHook(tokens: TokenService) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const t = bearerToken(req.headers.authorization);
    const ctx = t === null ? null : await tokens.authenticate(t);
    if (ctx === null) throw new AuthError({ code: "ERR_UNAUTHORIZED" }, "a valid bearer token is required");
    req.monitorAuth = ctx;
  };
}

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(h: string | undefined): string | null {
  const m = typeof h === "string" ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m === null ? null : m[1]!;
}

/** The caller's context, checked against the roles a route allows. */
export function requireRole(req: FastifyRequest, roles: readonly AuthContext["role"][]): AuthContext {
  const a = req.monitorAuth;
  if (a === null) throw new AuthError({ code: "ERR_UNAUTHORIZED" }, "a valid bearer token is required");
  if (!roles.includes(a.role))
    throw new AuthError({ code: "ERR_FORBIDDEN" }, `a token with role ${roles.join(" or ")} is required`);
  return a;
}

/** A preValidation hook admitting only the given roles (before the input is validated). */
export function roles(allowed: readonly AuthContext["role"][]) {
  return async (req: FastifyRequest): Promise<void> => {
    requireRole(req, allowed);
  };
}

/** The caller's context (set by authHook; the route's role hook already checked it). */
export function authOf(req: FastifyRequest): AuthContext {
  const a = req.monitorAuth;
  if (a === null) throw new AuthError({ code: "ERR_UNAUTHORIZED" }, "a valid bearer token is required");
  return a;
}

/** Owner scope of a reader: admins see every owner (null), everyone else their own. */
export function scopeOf(a: AuthContext): number | null {
  return a.role === "admin" ? null : a.ownerId;
}

export const READERS: readonly AuthContext["role"][] = ["operator", "admin"];
export const REPORTERS: readonly AuthContext["role"][] = ["agent", "admin"];
