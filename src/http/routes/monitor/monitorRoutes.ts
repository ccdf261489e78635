import type { FastifyInstance } from "fastify";
import type { AlertService } from "../../../alerts/alertService.js";
import { toAlertView } from "../../../alerts/types.js";
import type { FleetQueries } from "../../../fleet/fleetQueries.js";
import type { IngestService } from "../../../fleet/ingestService.js";
import { type MaintenanceService, notFound } from "../../../fleet/maintenanceService.js";
import type { FleetMetrics } from "../../../fleet/metrics.js";
import { parseReport } from "../../../fleet/reportFormat.js";
import { ReportRateLimitedError } from "../../../fleet/reportRateLimit.js";
import { TOKEN_CACHE_MS, type TokenService } from "../../../fleet/tokens.js";
import type { AlertStatus } from "../../../store/alerts/alertsRepository.js";
import type { HistoryRow } from "../../../store/fleet/hostKeysRepository.js";
import type { MaintenanceRow } from "../../../store/fleet/maintenanceRepository.js";
import { BadRequestError } from "../../../util/errors.js";
import { opt } from "../../../util/opt.js";
import { authHook, bearerToken, READERS, REPORTERS, requireRole, scopeOf } from "./auth.js";
import type { AlertFeed } from "./feed.js";
import { actionBody, csvCell, optString, optTime, parseId, parseLimit, parseTime } from "./params.js";

export interface MonitorRouteServices {
  tokens: TokenService;
  ingest: IngestService;
  queries: FleetQueries;
  maintenance: MaintenanceService;
  alerts: AlertService;
  feed: AlertFeed;
  deleteHost(ownerId: number | null, ref: string): Promise<boolean>;
  now(): number;
  metrics?: FleetMetrics | null;
  /** Largest report body (bytes); larger ones get 413. */
  maxReportBytes: number;
}

/** The feed checks its tokens once a second (its poll); one second short of the REST cache age. */
const FEED_TOKEN_MAX_AGE_MS = TOKEN_CACHE_MS - 1000;
const STATUSES = new Set(["open", "acknowledged", "suppressed", "resolved"]);
const HEX_PREFIX_RE = /^0x[0-9a-f]{0,132}$/;
const PUBKEY_RE = /^0x[0-9a-f]{64,132}$/;
const CHAIN_RE = /^[a-z0-9_]{1,32}$/;

/** The monitor API under /api/v1 (agents report; owners read and act on their own hosts, keys and alerts). */
export async function monitorRoutes(app: FastifyInstance, s: MonitorRouteServices): Promise<void> {
  app.decorateRequest("monitorAuth", null);
  await app.register(
    async (api) => {
      api.addHook("onRequest", authHook(s.tokens));

      api.post("/agent/reports", { bodyLimit: s.maxReportBytes }, async (req, reply) => {
        const auth = requireRole(req, REPORTERS);
        let report: ReturnType<typeof parseReport>;
        try {
          report = parseReport(req.body);
        } catch (e) {
          s.metrics?.reports.inc({ result: "rejected" });
          throw e;
        }
        let r: Awaited<ReturnType<IngestService["ingest"]>>;
        try {
          r = await s.ingest.ingest(auth, report);
        } catch (e) {
          if (!(e instanceof ReportRateLimitedError)) throw e;
          // the host reports faster than its limit: the agent keeps the report and sends it after this
          s.metrics?.reports.inc({ result: "rate_limited" });
          return reply
            .status(429)
            .header("retry-after", String(Math.max(1, Math.ceil(e.type.retryAfterMs / 1000))))
            .send({ code: e.code, message: e.message });
        }
        return reply.status(202).send({ accepted: true, host_id: r.hostId, changed: r.changed });
      });

      api.get("/alerts", async (req) => {
        const a = requireRole(req, READERS);
        const q = req.query as Record<string, unknown>;
        const status = q.status === undefined ? undefined : String(q.status);
        if (status !== undefined && !STATUSES.has(status))
          throw new BadRequestError("status is not an alert status", "status");
        const rows = await s.alerts.list({
          ownerId: scopeOf(a),
          ...(status === undefined ? {} : { status: status as AlertStatus }),
          ...opt("kind", optString(q.kind, "kind", /^[a-z_]{1,40}$/)),
          ...opt("chain", optString(q.chain, "chain", CHAIN_RE)),
          ...opt("pubkey", optString(q.pubkey, "pubkey", PUBKEY_RE)),
          ...opt("updatedSince", optTime(q.since, "since")),
          ...opt("beforeId", q.before === undefined ? undefined : parseId(q.before, "before")),
          limit: parseLimit(q.limit, 100, 1000),
        });
        return { data: rows.map(toAlertView) };
      });

      api.get("/alerts/:id", async (req) => {
        const a = requireRole(req, READERS);
        const r = await s.alerts.get({ ownerId: scopeOf(a) }, parseId((req.params as { id: string }).id));
        return {
          data: {
            ...toAlertView(r.alert),
            events: r.events.map((e) => ({
              at: new Date(e.at).toISOString(),
              actor: e.actor,
              action: e.action,
              note: e.note,
            })),
            notifications: r.notifications,
          },
        };
      });

      for (const action of ["acknowledge", "suppress", "resolve"] as const) {
        api.post(`/alerts/:id/${action}`, async (req) => {
          const a = requireRole(req, READERS);
          const id = parseId((req.params as { id: string }).id);
          const body = actionBody(req.body, a.ownerName);
          const actor = { ownerId: scopeOf(a), name: body.by };
          const row =
            action === "acknowledge"
              ? await s.alerts.acknowledge(actor, id, body.note)
              : action === "resolve"
                ? await s.alerts.resolve(actor, id, body.note)
                : await s.alerts.suppress(actor, id, parseTime(body.raw.until, "until"), body.note);
          return { data: toAlertView(row) };
        });
      }

      api.get("/hosts", async (req) => {
        const a = requireRole(req, READERS);
        return { data: (await s.queries.hosts(scopeOf(a), s.now())).map(hostView) };
      });

      api.get("/hosts/:id", async (req) => {
        const a = requireRole(req, READERS);
        const hosts = await s.queries.hosts(scopeOf(a), s.now(), parseId((req.params as { id: string }).id));
        if (hosts.length === 0) throw notFound("host");
        return { data: hostView(hosts[0]!) };
      });

      api.delete("/hosts/:id", async (req, reply) => {
        const a = requireRole(req, READERS);
        if (!(await s.deleteHost(scopeOf(a), String(parseId((req.params as { id: string }).id)))))
          throw notFound("host");
        return reply.status(204).send();
      });

      api.get("/keys", async (req) => {
        const a = requireRole(req, READERS);
        const q = req.query as Record<string, unknown>;
        const limit = parseLimit(q.limit, 500, 5000);
        const status = optString(q.status, "status", /^(active|inactive)$/);
        const prefix = optString(
          typeof q.prefix === "string" ? q.prefix.toLowerCase() : q.prefix,
          "prefix",
          HEX_PREFIX_RE,
        );
        const after = parseCursor(q.cursor);
        const rows = await s.queries.keys({
          ownerId: scopeOf(a),
          ...opt("chain", optString(q.chain, "chain", CHAIN_RE)),
          ...opt("hostId", q.host === undefined ? undefined : parseId(q.host, "host")),
          ...opt("active", status === undefined ? undefined : status === "active"),
          ...opt("prefix", prefix),
          ...opt("after", after),
          limit,
        });
        const last = rows[rows.length - 1];
        return {
          data: rows.map((k) => ({
            chain: k.chain,
            pubkey: k.pubkey,
            key_type: k.keyType,
            host_id: k.hostId,
            host: k.hostName,
            status: k.active ? "active" : "inactive",
            stale: k.stale,
            certainty: k.certainty,
            source: k.source,
            facts: JSON.parse(k.facts) as unknown,
            first_seen: iso(k.firstSeenAt),
            changed_at: iso(k.changedAt),
          })),
          next_cursor: rows.length === limit && last !== undefined ? `${last.pubkey}.${last.hostId}` : null,
        };
      });

      api.get("/maintenance", async (req) => {
        const a = requireRole(req, READERS);
        const past = (req.query as Record<string, unknown>).include_past === "true";
        return { data: (await s.maintenance.list(scopeOf(a), s.now(), past)).map(windowView) };
      });

      api.post("/maintenance", async (req, reply) => {
        const a = requireRole(req, READERS);
        const b = bodyObject(req.body);
        if (typeof b.host !== "string" && typeof b.host !== "number")
          throw new BadRequestError("host (name or id) is required", "host");
        const row = await s.maintenance.create(
          scopeOf(a),
          String(b.host),
          windowInput(b, s.now()),
          actionBody(b, a.ownerName).by,
          s.now(),
        );
        return reply.status(201).send({ data: windowView(row) });
      });

      api.get("/maintenance/:id", async (req) => {
        const a = requireRole(req, READERS);
        return { data: windowView(await s.maintenance.get(scopeOf(a), parseId((req.params as { id: string }).id))) };
      });

      api.put("/maintenance/:id", async (req) => {
        const a = requireRole(req, READERS);
        const row = await s.maintenance.update(
          scopeOf(a),
          parseId((req.params as { id: string }).id),
          windowInput(bodyObject(req.body), s.now()),
        );
        return { data: windowView(row) };
      });

      api.delete("/maintenance/:id", async (req, reply) => {
        const a = requireRole(req, READERS);
        await s.maintenance.delete(scopeOf(a), parseId((req.params as { id: string }).id));
        return reply.status(204).send();
      });

      api.get("/reports/keys/:pubkey/history", async (req, reply) => {
        const a = requireRole(req, READERS);
        const pubkey = String((req.params as { pubkey: string }).pubkey).toLowerCase();
        if (!PUBKEY_RE.test(pubkey)) throw new BadRequestError("pubkey must be 0x-hex", "pubkey");
        const q = req.query as Record<string, unknown>;
        const to = optTime(q.to, "to") ?? s.now();
        const from = optTime(q.from, "from") ?? 0;
        const rows = await s.queries.history(scopeOf(a), pubkey, from, to);
        const alerts = await s.alerts.list({ ownerId: scopeOf(a), pubkey, limit: 1000 });
        const csv =
          q.format === "csv" || (q.format === undefined && String(req.headers.accept ?? "").includes("text/csv"));
        if (csv) {
          const lines = ["host,chain,pubkey,present,active,stale,from,to,facts", ...rows.map(csvRow)];
          return reply
            .type("text/csv; charset=utf-8")
            .header("content-disposition", `attachment; filename="key-${pubkey.slice(0, 18)}-history.csv"`)
            .send(`${lines.join("\n")}\n`);
        }
        return { data: { pubkey, intervals: rows.map(historyView), alerts: alerts.map(toAlertView) } };
      });

      api.get("/feed", async (req, reply) => {
        const a = requireRole(req, READERS);
        const token = bearerToken(req.headers.authorization) ?? "";
        s.feed.checkLimit(a.tokenId); // 429 in the API's form, before the stream starts
        reply.hijack();
        s.feed.subscribe(
          {
            ownerId: scopeOf(a),
            tokenId: a.tokenId,
            // re-checked every tick with a cache age one tick short of REST's: a revoked token's feed
            // ends within the bound in which its REST requests start to be refused
            stillValid: async () => (await s.tokens.authenticate(token, FEED_TOKEN_MAX_AGE_MS)) !== null,
          },
          reply.raw,
        );
      });
    },
    { prefix: "/api/v1" },
  );
}

function parseCursor(v: unknown): { pubkey: string; hostId: number } | undefined {
  if (v === undefined || v === "") return undefined;
  const m = typeof v === "string" ? /^(0x[0-9a-f]{64,132})\.([0-9]{1,10})$/.exec(v) : null;
  if (m === null) throw new BadRequestError("cursor is malformed", "cursor");
  return { pubkey: m[1]!, hostId: Number(m[2]) };
}

function bodyObject(b: unknown): Record<string, unknown> {
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw new BadRequestError("body must be a JSON object");
  return b as Record<string, unknown>;
}

function windowInput(b: Record<string, unknown>, now: number): { startsAt: number; endsAt: number; reason: string } {
  const reason = b.reason ?? "";
  if (typeof reason !== "string") throw new BadRequestError("reason must be text", "reason");
  return {
    startsAt: b.starts_at === undefined ? now : parseTime(b.starts_at, "starts_at"),
    endsAt: parseTime(b.ends_at, "ends_at"),
    reason,
  };
}

function windowView(w: MaintenanceRow) {
  return {
    id: w.id,
    host_id: w.hostId,
    host: w.hostName,
    starts_at: iso(w.startsAt),
    ends_at: iso(w.endsAt),
    reason: w.reason,
    created_by: w.createdBy,
    created_at: iso(w.createdAt),
  };
}

function hostView(h: Awaited<ReturnType<FleetQueries["hosts"]>>[number]) {
  return {
    id: h.id,
    name: h.name,
    owner: h.ownerName,
    agent_version: h.agentVersion,
    interval_ms: h.intervalMs,
    first_seen: iso(h.firstSeenAt),
    last_report_at: iso(h.lastReportAt),
    reports_total: h.reportsTotal,
    silent: h.silent,
    keys_present: h.keysPresent,
    keys_active: h.keysActive,
    nodes: h.sources.map((n) => ({
      source: n.source,
      chain: n.chain,
      reachable: n.reachable,
      error: n.error,
      since: iso(n.since),
      info: JSON.parse(n.info) as unknown,
    })),
    maintenance: h.maintenance === null ? null : windowView(h.maintenance),
  };
}

export function historyView(r: HistoryRow) {
  return {
    host_id: r.hostId,
    host: r.hostName,
    chain: r.chain,
    present: r.present,
    active: r.active,
    stale: r.stale,
    from: iso(r.fromAt),
    to: r.toAt === null ? null : iso(r.toAt),
    facts: JSON.parse(r.facts) as unknown,
    report_id: r.reportId,
    // > 1: older intervals merged into this one (present/active if any of them was)
    changes: r.changes,
  };
}

function csvRow(r: HistoryRow): string {
  return [
    r.hostName,
    r.chain,
    r.pubkey,
    r.present,
    r.active,
    r.stale,
    iso(r.fromAt),
    r.toAt === null ? "" : iso(r.toAt),
    r.facts,
  ]
    .map(csvCell)
    .join(",");
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
