import { HttpClient, type HttpResponse } from "../../util/httpClient.js";
import { HttpError, HttpErrorCode } from "../../util/httpErrors.js";
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
  private readonly http: HttpClient;
  private preferred = 0;

  constructor(opts: BeaconHttpOptions) {
    if (opts.urls.length === 0) throw new Error("at least one beacon node URL is required");
    this.urls = opts.urls.map((u) => u.replace(/\/+$/, ""));
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BEACON_TIMEOUT_MS;
    // One deadline for the whole answer (it is late after `timeoutMs` whatever the phase); the phases
    // share it, and the body is read no further than the cap.
    this.http = new HttpClient({
      connectTimeoutMs: this.timeoutMs,
      headersTimeoutMs: this.timeoutMs,
      bodyTimeoutMs: this.timeoutMs,
      totalTimeoutMs: this.timeoutMs,
      maxBodyBytes: opts.maxBytes ?? 64 << 20,
    });
  }

  /** One request to one node. Network failures and timeouts throw; every HTTP status is returned. */
  async call(node: string, method: "GET" | "POST", path: string, body?: unknown): Promise<BeaconAnswer> {
    let res: HttpResponse;
    try {
      res = await this.http.request({
        url: `${node}${path}`,
        method,
        headers: { accept: "application/json" },
        ...(body === undefined ? {} : { json: body }),
      });
    } catch (e) {
      if (e instanceof HttpError && e.type.code === HttpErrorCode.TooLarge)
        throw new BeaconError({ code: BeaconErrorCode.BadResponse, node, path: stripQuery(path), field: "size" });
      throw this.networkError(node, e);
    }
    let parsed: unknown = null;
    try {
      parsed = res.body.length === 0 ? null : JSON.parse(res.body.toString("utf8"));
    } catch {
      if (res.status >= 200 && res.status < 300)
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
    if (e instanceof HttpError && e.type.code === HttpErrorCode.Timeout)
      return new BeaconError({ code: BeaconErrorCode.Timeout, node, timeoutMs: this.timeoutMs });
    return new BeaconError({
      code: BeaconErrorCode.Unreachable,
      node,
      cause: e instanceof HttpError && e.type.code === HttpErrorCode.Connection ? e.type.cause : errorCode(e),
    });
  }
}

function errorCode(e: unknown): string {
  return e instanceof HttpError ? e.type.code : "request failed";
}

export function stripQuery(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}
