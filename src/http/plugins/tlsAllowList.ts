import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../util/errors.js";

export class ForbiddenError extends AppError<{ code: "ERR_FORBIDDEN" }> {}

/** SHA-256 fingerprint in one canonical form: upper-case hex pairs joined by colons. */
export function normalizeFingerprint(f: string): string {
  const hex = f
    .replace(/^sha256[:=]?/i, "")
    .replace(/[^0-9a-fA-F]/g, "")
    .toUpperCase();
  if (hex.length !== 64) throw new Error(`not a SHA-256 fingerprint: ${f}`);
  return hex.match(/../g)!.join(":");
}

/**
 * Reads an allow-list file: one client per line, `[name] FINGERPRINT` (SHA-256 of the client certificate,
 * colons optional); `#` starts a comment.
 */
export function readAllowList(file: string): Set<string> {
  const out = new Set<string>();
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line.length === 0) continue;
    out.add(normalizeFingerprint(line.split(/\s+/).pop()!));
  }
  return out;
}

/** Admits only TLS clients whose certificate fingerprint is listed (certificates may be self-signed). */
export function enforceClientAllowList(app: FastifyInstance, allowed: ReadonlySet<string>): void {
  app.addHook("onRequest", async (req) => {
    const socket = req.raw.socket as TLSSocket;
    const cert = typeof socket.getPeerCertificate === "function" ? socket.getPeerCertificate() : null;
    const fp = cert?.fingerprint256;
    if (!fp || !allowed.has(normalizeFingerprint(fp))) {
      throw new ForbiddenError({ code: "ERR_FORBIDDEN" }, "client certificate is not in the allow-list");
    }
  });
}
