import { AlertService } from "../../src/alerts/alertService.js";
import { AlertRouter, type AlertSink, DEFAULT_POLICY } from "../../src/alerts/router.js";
import type { AlertNotification } from "../../src/alerts/types.js";
import { dedupKey } from "../../src/detect/fleet/fleetRules.js";
import { DEFAULT_DETECT_OPTIONS, type Detection } from "../../src/detect/types.js";
import { type IngestOptions, IngestService } from "../../src/fleet/ingestService.js";
import { TokenService } from "../../src/fleet/tokens.js";
import { ingestHooks } from "../../src/monitor/ingestHooks.js";
import type { Store } from "../../src/store/types.js";
import { nullLogger } from "../../src/util/logger.js";

/** A sink that records what it is asked to send (delivery itself is tested against real receivers). */
export class RecordingSink implements AlertSink {
  readonly type = "recording";
  readonly sent: AlertNotification[] = [];
  failWith: Error | null = null;
  constructor(readonly name = "rec") {}
  async send(n: AlertNotification): Promise<void> {
    if (this.failWith !== null) throw this.failWith;
    this.sent.push(n);
  }
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public t = 1_700_000_000_000) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function testRouter(...sinks: AlertSink[]): AlertRouter {
  return new AlertRouter(
    sinks.map((sink) => ({ sink, policy: { ...DEFAULT_POLICY, ratePerSecond: 1000, burst: 1000 } })),
  );
}

/** Ingestion wired to detection and alerts the way the monitor wires them (no HTTP, no sweep loop). */
export function monitorParts(
  store: Store,
  clock: ManualClock,
  o: { dedupWindowMs?: number; resolveAfterMs?: number; ingest?: IngestOptions } = {},
) {
  const router = testRouter();
  const alerts = new AlertService(
    { dedupWindowMs: o.dedupWindowMs ?? 86_400_000, resolveAfterMs: o.resolveAfterMs ?? 30_000, now: clock.now },
    { store, router, logger: nullLogger },
  );
  const ingest = new IngestService(
    { now: clock.now, ...o.ingest },
    {
      store,
      logger: nullLogger,
      hooks: ingestHooks(alerts, DEFAULT_DETECT_OPTIONS.keyMovedWindowMs),
    },
  );
  const tokens = new TokenService(store, clock.now);
  return { alerts, ingest, tokens, router };
}

export function detection(kind: string, hosts: number[], o: Partial<Detection> = {}): Detection {
  const chain = o.chain === undefined ? "harmony" : o.chain;
  const pubkey = o.pubkey === undefined ? "0xaa" : o.pubkey;
  return {
    kind,
    severity: kind === "double_active" ? "critical" : kind === "key_moved" ? "info" : "warning",
    ownerId: 1,
    chain,
    pubkey,
    hosts: hosts.map((h) => `h${h}`),
    confidence: 1,
    evidence: {},
    summary: `${kind} on ${hosts.join(",")}`,
    dedupKey: dedupKey(kind, o.ownerId ?? 1, chain, pubkey, hosts),
    ...o,
  };
}
