import type { AlertNotification } from "./types.js";

/** One notification channel. `send` throws a SinkError (retryable or not) when delivery failed. */
export interface AlertSink {
  readonly name: string;
  readonly type: string;
  send(n: AlertNotification, signal: AbortSignal): Promise<void>;
}

const SEVERITY_RANK: Record<string, number> = { info: 0, warning: 1, critical: 2 };

/** Which notifications a sink takes, how fast, and how hard it retries. */
export interface SinkPolicy {
  kinds?: readonly string[];
  minSeverity?: "info" | "warning" | "critical";
  /** Owner names; absent: every owner (and events without an owner). */
  owners?: readonly string[];
  actions?: readonly string[];
  /** Token bucket: sustained deliveries per second and burst. */
  ratePerSecond: number;
  burst: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_POLICY: SinkPolicy = {
  ratePerSecond: 1,
  burst: 10,
  maxAttempts: 10,
  initialBackoffMs: 1000,
  maxBackoffMs: 300_000,
};

export interface RoutedSink {
  sink: AlertSink;
  policy: SinkPolicy;
}

/**
 * Routes notifications to sinks by kind, severity, owner and action. Other jobs (doppelganger
 * `foreign_signer`, failover events) raise alerts through AlertService, which routes with this.
 */
export class AlertRouter {
  private readonly byName = new Map<string, RoutedSink>();

  constructor(sinks: readonly RoutedSink[]) {
    for (const s of sinks) {
      if (this.byName.has(s.sink.name)) throw new Error(`two sinks are named ${s.sink.name}`);
      this.byName.set(s.sink.name, s);
    }
  }

  /** Names of the sinks that take this notification. */
  route(n: AlertNotification): string[] {
    const out: string[] = [];
    for (const [name, { policy: p }] of this.byName) {
      if (p.kinds !== undefined && !p.kinds.includes(n.alert.kind)) continue;
      if (p.actions !== undefined && !p.actions.includes(n.action)) continue;
      if (p.minSeverity !== undefined && (SEVERITY_RANK[n.alert.severity] ?? 0) < SEVERITY_RANK[p.minSeverity]!)
        continue;
      if (p.owners !== undefined && (n.owner === null || !p.owners.includes(n.owner))) continue;
      out.push(name);
    }
    return out;
  }

  get(name: string): RoutedSink | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }
}
