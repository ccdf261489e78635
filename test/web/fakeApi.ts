import type { FetchLike } from "../../web/src/api/client.js";
import type { Alert, Host, KeyRow } from "../../web/src/api/types.js";

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Headers;
}
export type FakeAnswer = { status?: number; body?: unknown; headers?: Record<string, string> } | Response;
export type FakeHandler = (req: FakeRequest) => FakeAnswer | Promise<FakeAnswer>;

/**
 * A fetch that answers like the monitor's API from handlers keyed "METHOD /path" (the real wire
 * format: JSON bodies, {code, message} errors, a Date header). Unknown routes are 404 ERR_NOT_FOUND.
 */
export function fakeApi(routes: Record<string, FakeHandler>, now: () => number = Date.now) {
  const calls: FakeRequest[] = [];
  const fetch: FetchLike = async (input, init = {}) => {
    const u = new URL(input, "http://dashboard.test");
    const method = (init.method ?? "GET").toUpperCase();
    const req: FakeRequest = {
      method,
      path: u.pathname,
      query: u.searchParams,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      headers: new Headers(init.headers),
    };
    calls.push(req);
    const exact = routes[`${method} ${u.pathname}`];
    const pattern = Object.entries(routes).find(([k]) => {
      const [m, p] = k.split(" ");
      return m === method && p!.includes(":") && new RegExp(`^${p!.replace(/:[a-z]+/g, "[^/]+")}$`).test(u.pathname);
    })?.[1];
    const handler = exact ?? pattern;
    const ans: FakeAnswer =
      handler === undefined
        ? { status: 404, body: { code: "ERR_NOT_FOUND", message: "no route" } }
        : await handler(req);
    if (ans instanceof Response) return ans;
    return new Response(ans.body === undefined ? null : JSON.stringify(ans.body), {
      status: ans.status ?? 200,
      headers: { "content-type": "application/json", date: new Date(now()).toUTCString(), ...ans.headers },
    });
  };
  return { fetch, calls };
}

export function alert(id: number, o: Partial<Alert> = {}): Alert {
  return {
    id,
    kind: "double_active",
    severity: "critical",
    chain: "harmony",
    pubkey: `0x${id.toString(16).padStart(8, "0").repeat(12)}`,
    hosts: ["alpha", "beta"],
    status: "open",
    confidence: 1,
    summary: `harmony key ${id} is actively signing on 2 hosts: alpha, beta`,
    evidence: {
      observations: [
        { host: "alpha", certainty: 1 },
        { host: "beta", certainty: 0.5, stale: true },
      ],
    },
    first_seen: "2026-01-01T10:00:00.000Z",
    last_seen: "2026-01-01T10:05:00.000Z",
    acknowledged_by: null,
    acknowledged_at: null,
    suppressed_until: null,
    resolved_by: null,
    resolved_at: null,
    dedup_key: `k${id}`,
    ...o,
  };
}

export function keyRow(i: number, o: Partial<KeyRow> = {}): KeyRow {
  return {
    chain: i % 3 === 0 ? "harmony" : "ethereum",
    pubkey: `0x${i.toString(16).padStart(6, "0")}${"ab".repeat(45)}`,
    key_type: "bls",
    host_id: (i % 4) + 1,
    host: `host-${(i % 4) + 1}`,
    status: i % 5 === 0 ? "inactive" : "active",
    stale: i % 7 === 0,
    certainty: 1,
    source: "s",
    first_seen: "2026-01-01T00:00:00.000Z",
    changed_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    ...o,
  };
}

export function host(id: number, o: Partial<Host> = {}): Host {
  return {
    id,
    name: `host-${id}`,
    owner: "alice",
    agent_version: "0.1.0",
    interval_ms: 15000,
    first_seen: "2026-01-01T00:00:00.000Z",
    last_report_at: new Date().toISOString(),
    reports_total: 10,
    silent: false,
    keys_present: 3,
    keys_active: 2,
    nodes: [
      {
        source: "harmony:http://127.0.0.1:9500",
        chain: "harmony",
        reachable: true,
        error: null,
        since: "2026-01-01T00:00:00.000Z",
        info: {},
      },
    ],
    maintenance: null,
    ...o,
  };
}

/** An SSE response whose events the test pushes (and can end). */
export function sseStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const enc = new TextEncoder();
  return {
    response: () => new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }),
    send: (text: string) => controller.enqueue(enc.encode(text)),
    end: () => controller.close(),
  };
}
