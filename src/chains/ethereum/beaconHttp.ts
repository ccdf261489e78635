import { BeaconError, BeaconErrorCode, type BeaconErrorType, BeaconUnavailableError } from "./beaconErrors.js";

export interface BeaconHttpOptions {
  /** Beacon node base URLs, in order of preference. */
  urls: readonly string[];
  /** Per request (default 4 s: a liveness answer that comes later than a third of a mainnet slot is late anyway). */
  timeoutMs?: number;
  /** Largest answer accepted (default 64 MiB: mainnet committee lists are a few MiB). */
  maxBytes?: number;
}

export interface BeaconAnswer {
  status: number;
  /** Parsed JSON, or null for an empty or non-JSON body of a non-2xx answer. */
  body: unknown;
}

export const DEFAULT_BEACON_TIMEOUT_MS = 4000;

/**
 * The one fetch wrapper of the beacon API client: a request to one node with a timeout, and failover
 * across the configured nodes (the last node that answered is tried first next time).
 */
export class BeaconHttp {
  readonly urls: string[];
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private preferred = 0;

  constructor(opts: BeaconHttpOptions) {
    if (opts.urls.length === 0) throw new Error("at least one beacon node URL is required");
    this.urls = opts.urls.map((u) => u.replace(/\/+$/, ""));
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BEACON_TIMEOUT_MS;
    this.maxBytes = opts.maxBytes ?? 64 << 20;
  }

  /** One request to one node. Network failures and timeouts throw; every HTTP status is returned. */
  async call(node: string, method: "GET" | "POST", path: string, body?: unknown): Promise<BeaconAnswer> {
    let res: Response;
    try {
      res = await fetch(`${node}${path}`, {
        method,
        headers:
          body === undefined
            ? { accept: "application/json" }
            : { accept: "application/json", "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw this.networkError(node, e);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw this.networkError(node, e);
    }
    if (text.length > this.maxBytes)
      throw new BeaconError({ code: BeaconErrorCode.BadResponse, node, path: stripQuery(path), field: "size" });
    let parsed: unknown = null;
    try {
      parsed = text.length === 0 ? null : JSON.parse(text);
    } catch {
      if (res.ok)
        throw new BeaconError({ code: BeaconErrorCode.BadResponse, node, path: stripQuery(path), field: "json" });
    }
    return { status: res.status, body: parsed };
  }

  /** Runs `fn` on one node after the other (the preferred one first) until one succeeds. */
  async firstSuccess<T>(fn: (node: string) => Promise<T>): Promise<T> {
    const failures: BeaconErrorType[] = [];
    for (let k = 0; k < this.urls.length; k++) {
      const i = (this.preferred + k) % this.urls.length;
      const node = this.urls[i]!;
      try {
        const out = await fn(node);
        this.preferred = i;
        return out;
      } catch (e) {
        if (!(e instanceof BeaconError)) throw e;
        failures.push(e.type);
      }
    }
    throw new BeaconUnavailableError(
      { code: "ERR_BEACON_ALL_FAILED", failures },
      `no beacon node gave a usable answer: ${failures.map((f) => f.code).join(", ")}`,
    );
  }

  private networkError(node: string, e: unknown): BeaconError {
    const err = e as { name?: string; cause?: { code?: string; message?: string }; message?: string };
    if (err?.name === "TimeoutError" || err?.name === "AbortError")
      return new BeaconError({ code: BeaconErrorCode.Timeout, node, timeoutMs: this.timeoutMs });
    return new BeaconError({
      code: BeaconErrorCode.Unreachable,
      node,
      cause: err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e),
    });
  }
}

export function stripQuery(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}
