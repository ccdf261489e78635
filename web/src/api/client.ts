/** An API answer that is not 2xx, or no answer at all (status 0). `code` is the server's ERR_… code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClient {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  /** GET that also returns the server's clock (Date header, ms), for `since` polling without clock skew. */
  getWithDate<T>(path: string, signal?: AbortSignal): Promise<{ body: T; serverTime: number | null }>;
  send<T>(method: "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T>;
  /** The raw response (streams, CSV downloads); errors are thrown as for the others. */
  raw(path: string, init?: RequestInit): Promise<Response>;
}

export interface ClientOptions {
  fetch?: FetchLike;
  /** Called on 401: the token was revoked or is wrong; the app signs out. */
  onUnauthorized?: () => void;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const j = (await res.json()) as { code?: unknown; message?: unknown };
    if (typeof j.code === "string") code = j.code;
    if (typeof j.message === "string") message = j.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, message);
}

/** The one way the dashboard talks to the server: same origin, bearer token, typed errors. */
export function createClient(token: string, opts: ClientOptions = {}): ApiClient {
  const doFetch: FetchLike = opts.fetch ?? ((i, init) => fetch(i, init));
  const raw = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    let res: Response;
    try {
      res = await doFetch(path, { ...init, headers, cache: "no-store" });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, "ERR_NETWORK", "the server cannot be reached");
    }
    if (res.ok) return res;
    const err = await errorOf(res);
    if (res.status === 401) opts.onUnauthorized?.();
    throw err;
  };
  const json = async <T>(res: Response): Promise<T> =>
    res.status === 204 ? (undefined as T) : ((await res.json()) as T);
  return {
    raw,
    get: async <T>(path: string, signal?: AbortSignal) => json<T>(await raw(path, signal ? { signal } : {})),
    getWithDate: async <T>(path: string, signal?: AbortSignal) => {
      const res = await raw(path, signal ? { signal } : {});
      const date = Date.parse(res.headers.get("date") ?? "");
      return { body: await json<T>(res), serverTime: Number.isNaN(date) ? null : date };
    },
    send: async <T>(method: "POST" | "PUT" | "DELETE", path: string, body?: unknown) =>
      json<T>(
        await raw(path, {
          method,
          ...(body === undefined
            ? {}
            : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
        }),
      ),
  };
}

/** What to tell the operator for an error: the server's message and what to do about it. */
export function describeError(e: unknown): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  if (e.status === 0)
    return "The server cannot be reached. Check that it is running and that this page's address is right.";
  if (e.status === 401) return "Your token is not accepted (wrong or revoked). Sign in again.";
  if (e.status === 403) return "Your token may not do this: the dashboard needs an operator or admin token.";
  if (e.status === 503) return `The server is up but its store is not (${e.code}). It retries; check the database.`;
  return `${e.message} (${e.code})`;
}
