import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { AppError } from "../../../util/errors.js";

/** One file of the built dashboard, held in memory with its compressed forms. */
export interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
  type: string;
  etag: string;
  /** Content-hashed name (Vite's assets/): cached for a year, never revalidated. */
  immutable: boolean;
}

export interface StaticBundle {
  /** A file by URL path ("/assets/index-abc.js"), or undefined. */
  get(path: string): StaticFile | undefined;
  index: StaticFile;
  size: number;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".svg", ".json", ".webmanifest", ".txt"]);
// Below this size compression saves less than the header costs.
const MIN_COMPRESS_BYTES = 1024;
/** The bundle is small (a few hundred KB); a directory much larger than this is not a dashboard build. */
const MAX_BUNDLE_BYTES = 32 << 20;

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

function smaller(candidate: Buffer, body: Buffer): Buffer | null {
  return candidate.length < body.length ? candidate : null;
}

/**
 * Reads a built dashboard (Vite's output directory) into memory once, with gzip and brotli forms of
 * text files, so serving it costs no disk access and no compression per request. Only files found
 * here can ever be served: a URL cannot name anything outside the build. Returns null when the
 * directory holds no index.html (the dashboard was not built).
 */
export function loadStaticBundle(dir: string): StaticBundle | null {
  if (!existsSync(join(dir, "index.html"))) return null;
  const files = new Map<string, StaticFile>();
  let size = 0;
  for (const file of walk(dir)) {
    const ext = extname(file).toLowerCase();
    const type = TYPES[ext];
    if (type === undefined) continue; // source maps, stray files: not served
    const body = readFileSync(file);
    size += body.length;
    if (size > MAX_BUNDLE_BYTES)
      throw new AppError({ code: "ERR_DASHBOARD_TOO_LARGE", dir }, `${dir} is larger than a dashboard build`);
    const path = `/${relative(dir, file).split(sep).join("/")}`;
    const compress = COMPRESSIBLE.has(ext) && body.length >= MIN_COMPRESS_BYTES;
    files.set(path, {
      body,
      gzip: compress ? smaller(gzipSync(body, { level: 9 }), body) : null,
      br: compress
        ? smaller(brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }), body)
        : null,
      type,
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
      immutable: path.startsWith("/assets/"),
    });
  }
  const index = files.get("/index.html")!;
  return { get: (p) => files.get(p), index, size };
}
