import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AlertService } from "../../../alerts/index.js";
import { toAlertView } from "../../../alerts/index.js";
import type { FleetMetrics, FleetQueries, IngestService } from "../../../fleet/index.js";
import {
  type MaintenanceService,
  notFound,
  parseReport,
  ReportRateLimitedError,
  TOKEN_CACHE_MS,
  type TokenService,
} from "../../../fleet/index.js";
import { Alert, AlertActionBody, AlertDetail, AlertListQuery } from "../../../schemas/alerts.js";
import { ErrorBody, IdParams, PubkeyParams } from "../../../schemas/common.js";
import {
  HistoryQuery,
  Host,
  KeyListQuery,
  KeyPage,
  MaintenanceCreateBody,
  MaintenanceListQuery,
  MaintenanceUpdateBody,
  MaintenanceWindow,
  ReportAccepted,
} from "../../../schemas/fleet.js";
import { BadRequestError } from "../../../util/errors.js";
import { opt } from "../../../util/opt.js";
import { typed } from "../../typed.js";
import { authHook, authOf, bearerToken, READERS, REPORTERS, roles, scopeOf } from "./auth.js";
import type { AlertFeed } from "./feed.js";
import { actionBody, optString, optTime, parseId, parseLimit, parseTime } from "./params.js";
import { csvRow, historyView, hostView, keyView, windowView } from "./views.js";

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
const HEX_PREFIX_RE = /^0x[0-9a-f]{0,132}$/;
const PUBKEY_RE = /^0x[0-9a-f]{64,132}$/;
const CHAIN_RE = /^[a-z0-9_]{1,32}$/;

const data = <T extends Parameters<typeof Type.Object>[0][string]>(t: T) => Type.Object({ data: t });
/** Role checks run before validation: a token of the wrong role gets 403 whatever it sent. */
const readers = { preValidation: roles(READERS) };

/** The monitor API under /api/v1 (agents report; owners read and act on their own hosts, keys and alerts). */
export async function monitorRoutes(app: FastifyInstance, s: MonitorRouteServices): Promise<void> {
  app.decorateRequest("monitorAuth", null);
  await app.register(
    async (plugin) => {
      const api = typed(plugin);
      api.addHook("onRequest", authHook(s.tokens));

      // The report body is parsed by fleet/reportFormat.ts (typed errors per field, counted as rejected).
      const report = { response: { 202: ReportAccepted, 429: ErrorBody } };
      api.post(
        "/agent/reports",
        { bodyLimit: s.maxReportBytes, preValidation: roles(REPORTERS), schema: report },
        async (req, reply) => {
          const auth = authOf(req);
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
        },
      );

      const alertList = { querystring: AlertListQuery, response: { 200: data(Type.Array(Alert)) } };
      api.get("/alerts", { ...readers, schema: alertList }, async (req) => {
        const a = authOf(req);
        const q = req.query;
        const rows = await s.alerts.list({
          ownerId: scopeOf(a),
          ...opt("status", q.status),
          ...opt("kind", optString(q.kind, "kind", /^[a-z_]{1,40}$/)),
          ...opt("chain", optString(q.chain, "chain", CHAIN_RE)),
          ...opt("pubkey", optString(q.pubkey, "pubkey", PUBKEY_RE)),
          ...opt("updatedSince", optTime(q.since, "since")),
          ...opt("beforeId", q.before === undefined ? undefined : parseId(q.before, "before")),
          limit: parseLimit(q.limit, 100, 1000),
        });
        return { data: rows.map(toAlertView) };
      });

      const alertGet = { params: IdParams, response: { 200: data(AlertDetail) } };
      api.get("/alerts/:id", { ...readers, schema: alertGet }, async (req) => {
        const a = authOf(req);
        const r = await s.alerts.get({ ownerId: scopeOf(a) }, parseId(req.params.id));
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

      const alertAction = { params: IdParams, body: AlertActionBody, response: { 200: data(Alert) } };
      for (const action of ["acknowledge", "suppress", "resolve"] as const) {
        api.post(`/alerts/:id/${action}`, { ...readers, schema: alertAction }, async (req) => {
          const a = authOf(req);
          const id = parseId(req.params.id);
          const body = actionBody(req.body, a.ownerName);
          const actor = { ownerId: scopeOf(a), name: body.by };
          const row =
            action === "acknowledge"
              ? await s.alerts.acknowledge(actor, id, body.note)
              : action === "resolve"
                ? await s.alerts.resolve(actor, id, body.note)
                : await s.alerts.suppress(actor, id, parseTime(req.body?.until, "until"), body.note);
          return { data: toAlertView(row) };
        });
      }

      api.get("/hosts", { ...readers, schema: { response: { 200: data(Type.Array(Host)) } } }, async (req) => {
        const a = authOf(req);
        return { data: (await s.queries.hosts(scopeOf(a), s.now())).map(hostView) };
      });

      api.get(
        "/hosts/:id",
        { ...readers, schema: { params: IdParams, response: { 200: data(Host) } } },
        async (req) => {
          const a = authOf(req);
          const hosts = await s.queries.hosts(scopeOf(a), s.now(), parseId(req.params.id));
          if (hosts.length === 0) throw notFound("host");
          return { data: hostView(hosts[0]!) };
        },
      );

      api.delete("/hosts/:id", { ...readers, schema: { params: IdParams } }, async (req, reply) => {
        const a = authOf(req);
        if (!(await s.deleteHost(scopeOf(a), String(parseId(req.params.id))))) throw notFound("host");
        return reply.status(204).send();
      });

      api.get(
        "/keys",
        { ...readers, schema: { querystring: KeyListQuery, response: { 200: KeyPage } } },
        async (req) => {
          const a = authOf(req);
          const q = req.query;
          const limit = parseLimit(q.limit, 500, 5000);
          const status = optString(q.status, "status", /^(active|inactive)$/);
          const prefix = optString(q.prefix?.toLowerCase(), "prefix", HEX_PREFIX_RE);
          const rows = await s.queries.keys({
            ownerId: scopeOf(a),
            ...opt("chain", optString(q.chain, "chain", CHAIN_RE)),
            ...opt("hostId", q.host === undefined ? undefined : parseId(q.host, "host")),
            ...opt("active", status === undefined ? undefined : status === "active"),
            ...opt("prefix", prefix),
            ...opt("after", parseCursor(q.cursor)),
            limit,
          });
          const last = rows[rows.length - 1];
          return {
            data: rows.map(keyView),
            next_cursor: rows.length === limit && last !== undefined ? `${last.pubkey}.${last.hostId}` : null,
          };
        },
      );

      const windows = { querystring: MaintenanceListQuery, response: { 200: data(Type.Array(MaintenanceWindow)) } };
      api.get("/maintenance", { ...readers, schema: windows }, async (req) => {
        const a = authOf(req);
        const past = req.query.include_past === "true";
        return { data: (await s.maintenance.list(scopeOf(a), s.now(), past)).map(windowView) };
      });

      const create = { body: MaintenanceCreateBody, response: { 201: data(MaintenanceWindow) } };
      api.post("/maintenance", { ...readers, schema: create }, async (req, reply) => {
        const a = authOf(req);
        const b = req.body;
        const row = await s.maintenance.create(
          scopeOf(a),
          String(b.host),
          windowInput(b, s.now()),
          actionBody(b, a.ownerName).by,
          s.now(),
        );
        return reply.status(201).send({ data: windowView(row) });
      });

      const one = { params: IdParams, response: { 200: data(MaintenanceWindow) } };
      api.get("/maintenance/:id", { ...readers, schema: one }, async (req) => {
        const a = authOf(req);
        return { data: windowView(await s.maintenance.get(scopeOf(a), parseId(req.params.id))) };
      });

      api.put("/maintenance/:id", { ...readers, schema: { ...one, body: MaintenanceUpdateBody } }, async (req) => {
        const a = authOf(req);
        const row = await s.maintenance.update(scopeOf(a), parseId(req.params.id), windowInput(req.body, s.now()));
        return { data: windowView(row) };
      });

      api.delete("/maintenance/:id", { ...readers, schema: { params: IdParams } }, async (req, reply) => {
        const a = authOf(req);
        await s.maintenance.delete(scopeOf(a), parseId(req.params.id));
        return reply.status(204).send();
      });

      // JSON ({data: {pubkey, intervals, alerts}}) or, with format=csv or Accept: text/csv, a CSV download.
      const history = { params: PubkeyParams, querystring: HistoryQuery };
      api.get("/reports/keys/:pubkey/history", { ...readers, schema: history }, async (req, reply) => {
        const a = authOf(req);
        const pubkey = req.params.pubkey.toLowerCase();
        const q = req.query;
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

      // Server-sent events (`event: alert`, data: an Alert); the stream is written by feed.ts.
      api.get("/feed", { ...readers }, async (req, reply) => {
        const a = authOf(req);
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

function parseCursor(v: string | undefined): { pubkey: string; hostId: number } | undefined {
  if (v === undefined || v === "") return undefined;
  const m = /^(0x[0-9a-f]{64,132})\.([0-9]{1,10})$/.exec(v);
  if (m === null) throw new BadRequestError("cursor is malformed", "cursor");
  return { pubkey: m[1]!, hostId: Number(m[2]) };
}

function windowInput(b: MaintenanceUpdateBody, now: number): { startsAt: number; endsAt: number; reason: string } {
  return {
    startsAt: b.starts_at === undefined ? now : parseTime(b.starts_at, "starts_at"),
    endsAt: parseTime(b.ends_at, "ends_at"),
    reason: b.reason ?? "",
  };
}
