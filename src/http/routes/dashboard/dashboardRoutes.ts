import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { StaticBundle, StaticFile } from "./staticBundle.js";

/**
 * The dashboard loads only its own files and talks only to its own origin: no inline script or style,
 * no eval, no external host, no framing. React sets styles through the CSSOM, which style-src does
 * not govern, so 'unsafe-inline' is not needed.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
};

const IMMUTABLE = "public, max-age=31536000, immutable";
// index.html and unhashed files: always revalidated (ETag), so a new build shows at the next load.
const REVALIDATE = "no-cache";

/** Paths that belong to an API: a miss there is a JSON 404, never the dashboard page. */
const API_PREFIXES = ["/api/", "/eth/"];

export interface DashboardRoutesOptions {
  /** The built dashboard, or null when it was not built (then `/` says so). */
  bundle: StaticBundle | null;
}

/** The encoding to send: brotli, then gzip, when the client accepts it (q=0 refuses). */
export function pickEncoding(acceptEncoding: string | undefined, file: StaticFile): "br" | "gzip" | null {
  if (acceptEncoding === undefined) return null;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name !== undefined && (q === undefined || Number(q) > 0)) accepted.add(name.trim());
  }
  if (file.br !== null && accepted.has("br")) return "br";
  if (file.gzip !== null && accepted.has("gzip")) return "gzip";
  return null;
}

/**
 * A path the single-page app routes itself (/alerts, /keys/0x…): letters, digits, - and _ only (no
 * file name, no escapes, no dot segments), and not an API.
 */
export function isClientRoute(path: string): boolean {
  return !API_PREFIXES.some((p) => path.startsWith(p)) && /^[A-Za-z0-9/_-]*$/.test(path);
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((t) => {
    const v = t.trim();
    return v === "*" || v === etag || v === `W/${etag}`;
  });
}

function send(req: FastifyRequest, reply: FastifyReply, file: StaticFile, immutable: boolean): FastifyReply {
  reply.headers(SECURITY_HEADERS);
  reply.header("cache-control", immutable ? IMMUTABLE : REVALIDATE);
  reply.header("etag", file.etag);
  reply.header("vary", "accept-encoding");
  if (etagMatches(req.headers["if-none-match"], file.etag)) return reply.status(304).send();
  const enc = pickEncoding(req.headers["accept-encoding"], file);
  reply.type(file.type);
  if (enc === null) return reply.send(file.body);
  reply.header("content-encoding", enc);
  return reply.send(enc === "br" ? file.br : file.gzip);
}

/**
 * Serves the built dashboard at `/`: hashed assets cached for a year, index.html revalidated, every
 * client route (/alerts, /keys/…) answered with index.html so a reload or a shared link works, and a
 * strict Content-Security-Policy. API routes registered on the same app win over this catch-all.
 */
export async function dashboardRoutes(app: FastifyInstance, opts: DashboardRoutesOptions): Promise<void> {
  const bundle = opts.bundle;
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = req.url.split("?")[0]!;
    if (bundle === null) {
      if (path === "/")
        return reply.status(404).send({
          code: "ERR_DASHBOARD_NOT_BUILT",
          message: "the dashboard is not built: run `npm run build` (or `npm run web:build`)",
        });
      reply.callNotFound();
      return reply;
    }
    const file = bundle.get(path);
    if (file !== undefined) return send(req, reply, file, file.immutable);
    if (path === "/" || isClientRoute(path)) return send(req, reply, bundle.index, false);
    reply.callNotFound();
    return reply;
  };
  app.get("/", handler);
  app.get("/*", handler);
}
