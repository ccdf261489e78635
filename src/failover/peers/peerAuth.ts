import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { FailoverError, FailoverErrorCode } from "../errors.js";

/**
 * Peer authentication of the failover API (/status, /validator_state) with a shared token, over plain
 * HTTP, without the token ever crossing the wire:
 * - the caller sends a fresh nonce and HMAC(token, "req", method, path, nonce): the server answers only
 *   a caller that knows the token;
 * - the server signs its answer with HMAC(token, "res", nonce, sha256(body)): the caller accepts only an
 *   answer made for its own nonce by a holder of the token, so a spoofed or replayed /status is refused.
 * The HMAC is keyed with sha256(token), so any token length works. mTLS can be put in front as well.
 */
export const PEER_NONCE_HEADER = "x-slashguard-nonce";
export const PEER_AUTH_HEADER = "x-slashguard-auth";

/** Shortest token accepted (bytes of the file, trimmed). */
const MIN_PEER_TOKEN_LENGTH = 32;

export class PeerToken {
  private readonly key: Buffer;

  constructor(token: string) {
    if (token.length < MIN_PEER_TOKEN_LENGTH) {
      throw new FailoverError(
        { code: FailoverErrorCode.PeerAuth, reason: "token_too_short" },
        `the peer token must have at least ${MIN_PEER_TOKEN_LENGTH} characters`,
      );
    }
    this.key = createHash("sha256").update(token, "utf8").digest();
  }

  /** Reads the token file (its content, trimmed). */
  static fromFile(path: string): PeerToken {
    return new PeerToken(readFileSync(path, "utf8").trim());
  }

  static nonce(): string {
    return randomBytes(16).toString("hex");
  }

  requestMac(method: string, path: string, nonce: string): string {
    return this.mac(["req", method.toUpperCase(), path, nonce]);
  }

  responseMac(nonce: string, body: Uint8Array | string): string {
    return this.mac(["res", nonce, createHash("sha256").update(body).digest("hex")]);
  }

  verifyRequest(method: string, path: string, nonce: unknown, mac: unknown): boolean {
    if (!validNonce(nonce) || typeof mac !== "string") return false;
    return equal(mac, this.requestMac(method, path, nonce));
  }

  verifyResponse(nonce: string, body: Uint8Array, mac: unknown): boolean {
    return typeof mac === "string" && equal(mac, this.responseMac(nonce, body));
  }

  private mac(parts: string[]): string {
    return createHmac("sha256", this.key).update(parts.join("\n")).digest("hex");
  }
}

function validNonce(n: unknown): n is string {
  return typeof n === "string" && /^[0-9a-f]{32}$/.test(n);
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether a peer URL names this host (127.0.0.0/8, ::1, localhost): such a peer is as trusted as we are. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return false;
  }
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
