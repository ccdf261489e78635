import type { ApiClient } from "../api/client.js";
import { describeError } from "../api/client.js";
import type { Alert, AlertStatus } from "../api/types.js";
import { LiveFeed, type LiveState } from "./liveFeed.js";

export interface AlertSnapshot {
  /** Newest first. */
  alerts: Alert[];
  loading: boolean;
  error: string | null;
  live: LiveState;
}

const ACTIVE: AlertStatus[] = ["open", "acknowledged", "suppressed"];
// `since` polling overlaps the previous look by this much: a change committed late is not missed.
const OVERLAP_MS = 5000;
const LIMIT = 1000;

/**
 * Every alert the dashboard knows, kept current by the live feed (or polling), shared by the banner
 * and the alert panel. Actions answer with the changed alert, which replaces the old one at once.
 */
export class AlertStore {
  private readonly byId = new Map<number, Alert>();
  private readonly listeners = new Set<() => void>();
  private snap: AlertSnapshot = { alerts: [], loading: true, error: null, live: "connecting" };
  private since: number | null = null;
  private feed: LiveFeed | null = null;
  // A fetch that started before an action on an alert may answer with the state before it: such
  // answers must not undo the action on screen. seq counts actions; actedSeq holds each alert's last one.
  private seq = 0;
  private readonly actedSeq = new Map<number, number>();

  constructor(
    private readonly client: ApiClient,
    private readonly feedOptions = { pollMs: 5000, retryMs: 2000, maxRetryMs: 30_000 },
  ) {}

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = (): AlertSnapshot => this.snap;

  /** Loads every alert that is not resolved, then follows changes. */
  async start(): Promise<void> {
    await this.load();
    this.feed = new LiveFeed(
      this.client,
      {
        onAlert: (a) => this.upsert([a]),
        onState: (live) => this.set({ live }),
        catchUp: () => this.catchUp(),
      },
      this.feedOptions,
    );
    void this.feed.start();
  }

  stop(): void {
    this.feed?.stop();
  }

  async load(): Promise<void> {
    this.set({ loading: true });
    try {
      const pages = await Promise.all(
        ACTIVE.map((s) => this.client.getWithDate<{ data: Alert[] }>(`/api/v1/alerts?status=${s}&limit=${LIMIT}`)),
      );
      this.byId.clear();
      for (const p of pages) for (const a of p.body.data) this.byId.set(a.id, a);
      this.since = Math.min(...pages.map((p) => p.serverTime ?? Date.now())) - OVERLAP_MS;
      this.set({ loading: false, error: null }, true);
    } catch (e) {
      this.set({ loading: false, error: describeError(e) });
    }
  }

  /** Alerts changed since the last look (server clock, so a skewed browser clock does not matter). */
  async catchUp(): Promise<void> {
    if (this.since === null) return this.load();
    const at = this.seq;
    const r = await this.client.getWithDate<{ data: Alert[] }>(`/api/v1/alerts?since=${this.since}&limit=${LIMIT}`);
    if (r.serverTime !== null) this.since = r.serverTime - OVERLAP_MS;
    this.upsert(this.notOlderThan(r.body.data, at));
    if (this.snap.error !== null) this.set({ error: null });
  }

  /** Fetches alerts of a filter the store may not hold yet (resolved ones, a kind). */
  async fetch(status: AlertStatus | "", kind: string): Promise<void> {
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (status !== "") q.set("status", status);
    if (kind !== "") q.set("kind", kind);
    const at = this.seq;
    this.upsert(this.notOlderThan((await this.client.get<{ data: Alert[] }>(`/api/v1/alerts?${q}`)).data, at));
  }

  async acknowledge(id: number): Promise<Alert> {
    return this.applyAction(await this.client.send<{ data: Alert }>("POST", `/api/v1/alerts/${id}/acknowledge`, {}));
  }

  async suppress(id: number, until: Date): Promise<Alert> {
    return this.applyAction(
      await this.client.send<{ data: Alert }>("POST", `/api/v1/alerts/${id}/suppress`, { until: until.toISOString() }),
    );
  }

  private applyAction(r: { data: Alert }): Alert {
    this.actedSeq.set(r.data.id, ++this.seq);
    this.upsert([r.data]);
    return r.data;
  }

  private notOlderThan(alerts: Alert[], at: number): Alert[] {
    return alerts.filter((a) => (this.actedSeq.get(a.id) ?? 0) <= at);
  }

  upsert(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    for (const a of alerts) this.byId.set(a.id, a);
    this.set({}, true);
  }

  private set(patch: Partial<AlertSnapshot>, alertsChanged = false): void {
    this.snap = {
      ...this.snap,
      ...patch,
      ...(alertsChanged ? { alerts: [...this.byId.values()].sort((a, b) => b.id - a.id) } : {}),
    };
    for (const l of this.listeners) l();
  }
}
