import type { Detection } from "../detect/index.js";
import { RAISED_BY } from "../detect/index.js";
import type { SqlTx, Store } from "../store/index.js";
import {
  type AlertListFilter,
  type AlertRow,
  alertsRepository,
  LockClass,
  type LockKey,
  lockKeys,
  notificationsRepository,
} from "../store/index.js";
import { AppError, BadRequestError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { type AlertStateSink, alertStateChange } from "./alertEvents.js";
import type { AlertMetrics } from "./metrics.js";
import type { AlertRouter } from "./router.js";
import { type AlertNotification, type NotificationAction, toAlertView } from "./types.js";

/** Actor recorded for what the monitor does by itself. */
export const MONITOR_ACTOR = "monitor";
const MAX_SUPPRESS_MS = 30 * 86_400_000;

export enum AlertErrorCode {
  NotFound = "ERR_NOT_FOUND",
  Resolved = "ERR_ALERT_RESOLVED",
  /** A caller that may not end this alert (issue 15: only its raising source may clear it). */
  Forbidden = "ERR_FORBIDDEN",
}

export class AlertError extends AppError<{ code: AlertErrorCode; id: number }> {}

export interface AlertServiceOptions {
  /** The same event is not re-sent within this window (reminders come once per window). */
  dedupWindowMs: number;
  /** A condition must stay clear this long before its alert resolves (absorbs flapping). */
  resolveAfterMs: number;
  now?: () => number;
}

export interface AlertServiceModules {
  store: Store;
  router: AlertRouter;
  logger: Logger;
  metrics?: AlertMetrics | null;
  /** Called after a transaction that queued notifications committed. */
  onQueued?: () => void;
  /** Every state change also goes to the message bus (--events), in the same transaction. */
  events?: AlertStateSink | null;
}

/** Who acts on an alert: an owner's token (admin: ownerId null sees every alert). */
export interface Actor {
  ownerId: number | null;
  name: string;
}

/**
 * Alert lifecycle: open → acknowledged → resolved (automatically once the condition stayed clear for
 * resolveAfterMs), suppressed until a time; every step records who and when. Notifications are written
 * to the outbox in the transaction that decides them (delivered by the dispatcher after commit).
 */
export class AlertService {
  private readonly now: () => number;
  private readonly owners = new Map<number, string>();

  constructor(
    readonly opts: AlertServiceOptions,
    private readonly modules: AlertServiceModules,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Raises events (any kind, from any job); they stay open until cleared or resolved. */
  async raise(detections: readonly Detection[]): Promise<void> {
    if (detections.length === 0) return;
    await this.modules.store.tx((tx) => this.raiseInTx(tx, detections, this.now()));
    this.modules.onQueued?.();
  }

  /**
   * Resolves the unresolved alerts of these events now (a job whose condition cleared). With `allow`,
   * an alert it refuses fails the whole call (ERR_FORBIDDEN) and nothing is resolved.
   */
  async clear(dedupKeys: readonly string[], allow?: (a: AlertRow) => boolean): Promise<void> {
    await this.modules.store.tx(async (tx) => {
      await lockKeys(tx, dedupKeys.map(alertLock));
      for (const k of dedupKeys) {
        const a = await alertsRepository.findUnresolved(tx, k);
        if (a === null) continue;
        if (allow !== undefined && !allow(a)) throw forbidden(a.id);
        await this.resolveRow(tx, a, MONITOR_ACTOR, "condition cleared", this.now());
      }
    });
    this.modules.onQueued?.();
  }

  /** The unresolved alert of an event, if any (read-only). */
  async findUnresolved(dedupKey: string): Promise<AlertRow | null> {
    return this.modules.store.tx((tx) => alertsRepository.findUnresolved(tx, dedupKey), { readOnly: true });
  }

  /** Inside a caller's transaction (the ingestion path): opens or refreshes the alerts of these events. */
  async raiseInTx(tx: SqlTx, detections: readonly Detection[], now: number): Promise<void> {
    await lockKeys(
      tx,
      detections.map((d) => alertLock(d.dedupKey)),
    );
    for (const d of detections) await this.raiseOne(tx, d, now);
  }

  /**
   * A full pass's verdict for `kinds`: raises what holds, and resolves the unresolved alerts of these
   * kinds whose condition has been absent for resolveAfterMs.
   */
  async reconcile(detections: readonly Detection[], kinds: readonly string[], now: number = this.now()): Promise<void> {
    await this.modules.store.tx(async (tx) => {
      const before = await alertsRepository.unresolvedOfKinds(tx, kinds);
      await lockKeys(tx, [...detections.map((d) => d.dedupKey), ...before.map((a) => a.dedupKey)].map(alertLock));
      const present = new Set(detections.map((d) => d.dedupKey));
      for (const d of detections) await this.raiseOne(tx, d, now);
      for (const a of await alertsRepository.unresolvedOfKinds(tx, kinds)) {
        if (present.has(a.dedupKey)) continue;
        if (a.clearSince === null) {
          a.clearSince = now;
          await alertsRepository.save(tx, a);
        } else if (now - a.clearSince >= this.opts.resolveAfterMs) {
          await this.resolveRow(tx, a, MONITOR_ACTOR, "condition cleared", now);
        }
      }
    });
    this.modules.onQueued?.();
  }

  async list(f: AlertListFilter): Promise<AlertRow[]> {
    return this.modules.store.tx((tx) => alertsRepository.list(tx, f), { readOnly: true });
  }

  async get(actor: Pick<Actor, "ownerId">, id: number) {
    return this.modules.store.tx(
      async (tx) => {
        const a = await alertsRepository.get(tx, id, actor.ownerId);
        if (a === null) throw notFound(id);
        return {
          alert: a,
          events: await alertsRepository.events(tx, id),
          notifications: await notificationsRepository.list(tx, id),
        };
      },
      { readOnly: true },
    );
  }

  async acknowledge(actor: Actor, id: number, note: string | null): Promise<AlertRow> {
    return this.act(actor, id, async (tx, a, now) => {
      if (a.status === "acknowledged") return;
      a.status = "acknowledged";
      a.acknowledgedBy = actor.name;
      a.acknowledgedAt = now;
      a.suppressedUntil = null;
      await this.event(tx, a, actor.name, "acknowledged", note, now);
      await this.notify(tx, a, "acknowledge", false, now);
    });
  }

  async suppress(actor: Actor, id: number, until: number, note: string | null): Promise<AlertRow> {
    const now = this.now();
    if (!(until > now) || until - now > MAX_SUPPRESS_MS)
      throw new BadRequestError("until must be in the future and at most 30 days ahead", "until");
    return this.act(actor, id, async (tx, a) => {
      a.status = "suppressed";
      a.suppressedUntil = until;
      await this.event(
        tx,
        a,
        actor.name,
        "suppressed",
        `until ${new Date(until).toISOString()}${note ? `: ${note}` : ""}`,
        now,
      );
    });
  }

  async resolve(actor: Actor, id: number, note: string | null): Promise<AlertRow> {
    return this.act(actor, id, (tx, a, now) => this.resolveRow(tx, a, actor.name, note, now));
  }

  private async act(
    actor: Actor,
    id: number,
    fn: (tx: SqlTx, a: AlertRow, now: number) => Promise<void>,
  ): Promise<AlertRow> {
    const out = await this.modules.store.tx(async (tx) => {
      const first = await alertsRepository.get(tx, id, actor.ownerId);
      if (first === null) throw notFound(id);
      await lockKeys(tx, [alertLock(first.dedupKey)]);
      const a = (await alertsRepository.get(tx, id, actor.ownerId))!;
      if (a.status === "resolved")
        throw new AlertError({ code: AlertErrorCode.Resolved, id }, `alert ${id} is resolved`);
      const now = this.now();
      await fn(tx, a, now);
      a.updatedAt = now;
      await alertsRepository.save(tx, a);
      return a;
    });
    this.modules.onQueued?.();
    return out;
  }

  private async raiseOne(tx: SqlTx, d: Detection, now: number): Promise<void> {
    const cur = await alertsRepository.findUnresolved(tx, d.dedupKey);
    let evidence = JSON.stringify(d.evidence);
    if (cur !== null) {
      evidence = keepRaiser(cur.evidence, d.evidence, evidence);
      const changed = cur.confidence !== d.confidence || cur.summary !== d.summary;
      cur.lastSeenAt = now;
      cur.confidence = d.confidence;
      cur.summary = d.summary;
      cur.evidence = evidence;
      cur.clearSince = null;
      if (cur.status === "suppressed" && (cur.suppressedUntil ?? 0) <= now) {
        cur.status = "open";
        cur.suppressedUntil = null;
        await this.event(tx, cur, MONITOR_ACTOR, "suppression ended", null, now);
      }
      if (
        cur.status === "open" &&
        (cur.lastNotifiedAt === null || now - cur.lastNotifiedAt >= this.opts.dedupWindowMs)
      ) {
        await this.notify(tx, cur, "trigger", cur.lastNotifiedAt !== null, now);
      }
      if (changed) cur.updatedAt = now;
      await alertsRepository.save(tx, cur);
      return;
    }
    const prev = await alertsRepository.latest(tx, d.dedupKey);
    // The same event within the dedup window is not sent again, except a double_active that comes back
    // after its condition had cleared: a key signing on two hosts again is a new danger, not a repeat.
    const withinWindow = prev?.lastNotifiedAt != null && now - prev.lastNotifiedAt < this.opts.dedupWindowMs;
    const send = !withinWindow || (d.kind === "double_active" && prev?.resolvedBy === MONITOR_ACTOR);
    const row: Omit<AlertRow, "id"> = {
      ownerId: d.ownerId,
      kind: d.kind,
      severity: d.severity,
      chain: d.chain,
      pubkey: d.pubkey,
      hosts: d.hosts,
      dedupKey: d.dedupKey,
      status: "open",
      confidence: d.confidence,
      summary: d.summary,
      evidence,
      firstSeenAt: now,
      lastSeenAt: now,
      updatedAt: now,
      clearSince: null,
      suppressedUntil: null,
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedBy: null,
      resolvedAt: null,
      lastNotifiedAt: send ? null : (prev?.lastNotifiedAt ?? null),
    };
    const a: AlertRow = { id: await alertsRepository.insert(tx, row), ...row };
    this.modules.metrics?.raised.inc({ kind: d.kind });
    await this.event(
      tx,
      a,
      MONITOR_ACTOR,
      "opened",
      send ? null : "same event within the dedup window: not sent again",
      now,
    );
    if (send) {
      await this.notify(tx, a, "trigger", false, now);
      await alertsRepository.save(tx, a);
    }
    this.modules.logger.warn("Alert opened", {
      id: a.id,
      kind: a.kind,
      chain: a.chain,
      hosts: a.hosts,
      notified: send,
    });
  }

  private async resolveRow(tx: SqlTx, a: AlertRow, by: string, note: string | null, now: number): Promise<void> {
    a.status = "resolved";
    a.resolvedBy = by;
    a.resolvedAt = now;
    a.updatedAt = now;
    await this.event(tx, a, by, "resolved", note, now);
    if (a.lastNotifiedAt !== null) await this.notify(tx, a, "resolve", false, now);
    await alertsRepository.save(tx, a);
  }

  private async event(
    tx: SqlTx,
    a: AlertRow,
    actor: string,
    action: string,
    note: string | null,
    at: number,
  ): Promise<void> {
    await alertsRepository.insertEvent(tx, { alertId: a.id, at, actor, action, note });
    await this.modules.events?.recordAlerts(tx, [alertStateChange(a, action, actor, note)]);
  }

  private async notify(
    tx: SqlTx,
    a: AlertRow,
    action: NotificationAction,
    reminder: boolean,
    now: number,
  ): Promise<void> {
    if (action === "trigger") {
      a.lastNotifiedAt = now;
      a.updatedAt = now;
    }
    const n: AlertNotification = {
      action,
      reminder,
      owner: await this.ownerName(tx, a.ownerId),
      alert: toAlertView(a),
    };
    for (const sink of this.modules.router.route(n)) {
      await notificationsRepository.enqueue(tx, { alertId: a.id, sink, action, payload: JSON.stringify(n), now });
    }
  }

  private async ownerName(tx: SqlTx, id: number | null): Promise<string | null> {
    if (id === null) return null;
    let name = this.owners.get(id);
    if (name === undefined) {
      const rows = await tx.all<{ name: string }>("SELECT name FROM fleet_owners WHERE id = $1", [id]);
      name = rows[0]?.name ?? "";
      this.owners.set(id, name);
    }
    return name;
  }
}

export function alertLock(dedupKey: string): LockKey {
  return { cls: LockClass.FleetAlert, id: Number.parseInt(dedupKey.slice(0, 8), 16) & 0x7fffffff };
}

function forbidden(id: number): AlertError {
  return new AlertError({ code: AlertErrorCode.Forbidden, id }, `this caller may not clear alert ${id}`);
}

/**
 * Evidence of a refreshed alert keeps the `raised_by` of the alert as first opened (or its absence): who
 * may clear an alert is decided when it opens, not by whoever reports it last.
 */
function keepRaiser(curJson: string, next: Record<string, unknown>, nextJson: string): string {
  if (!(RAISED_BY in next) && !curJson.includes(`"${RAISED_BY}"`)) return nextJson;
  const cur = JSON.parse(curJson) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...next };
  if (RAISED_BY in cur) out[RAISED_BY] = cur[RAISED_BY];
  else delete out[RAISED_BY];
  return JSON.stringify(out);
}

function notFound(id: number): AlertError {
  return new AlertError({ code: AlertErrorCode.NotFound, id }, `alert ${id} not found`);
}
