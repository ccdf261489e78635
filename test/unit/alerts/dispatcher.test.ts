import { afterEach, describe, expect, it } from "vitest";
import { NotificationDispatcher } from "../../../src/alerts/dispatcher.js";
import { AlertRouter, DEFAULT_POLICY } from "../../../src/alerts/router.js";
import { sinkError } from "../../../src/alerts/sinks/sinkError.js";
import { WebhookSink } from "../../../src/alerts/sinks/webhookSinks.js";
import { notificationsRepository } from "../../../src/store/alerts/notificationsRepository.js";
import { nullLogger } from "../../../src/util/logger.js";
import { TokenBucket } from "../../../src/util/tokenBucket.js";
import { LoopbackServer, sendJson } from "../../utils/httpServer.js";
import { ManualClock, RecordingSink } from "../../utils/monitorParts.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const payload = (id: number) => JSON.stringify({ action: "trigger", reminder: false, owner: null, alert: { id } });

describe("token bucket", () => {
  it("gives burst at once, then the sustained rate", () => {
    const c = new ManualClock(0);
    const b = new TokenBucket(2, 3, c.now);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0]);
    expect(b.take()).toBe(500);
    c.advance(500);
    expect(b.take()).toBe(0);
  });
});

describe.each(ENGINES)("notification dispatcher on %s", (engine) => {
  let ts: TestStore;
  let server: LoopbackServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
    await ts?.dispose();
  });
  const enqueue = (sink: string, n: number, now: number) =>
    ts.store.tx(async (tx) => {
      for (let i = 1; i <= n; i++)
        await notificationsRepository.enqueue(tx, { alertId: i, sink, action: "trigger", payload: payload(i), now });
    });
  const states = () => ts.store.tx((tx) => notificationsRepository.countByState(tx));

  it("retries a failing receiver with back-off and delivers once it answers; order is kept", async () => {
    ts = await openTestStore(engine);
    const clock = new ManualClock();
    let fail = 2;
    server = new LoopbackServer((_r, res) => sendJson(res, fail-- > 0 ? 503 : 200, {}));
    const url = await server.start();
    const router = new AlertRouter([
      { sink: new WebhookSink("hook", url), policy: { ...DEFAULT_POLICY, initialBackoffMs: 1000 } },
    ]);
    const d = new NotificationDispatcher({ now: clock.now }, { store: ts.store, router, logger: nullLogger });
    await enqueue("hook", 2, clock.t);
    await d.tick(); // 503 for #1, #2 gets 503 too
    expect(await states()).toEqual({ pending: 2 });
    await d.tick(); // nothing due yet
    expect(server.requests).toHaveLength(2);
    clock.advance(60_000);
    await d.tick();
    expect(await states()).toEqual({ sent: 2 });
    expect(server.requests.slice(2).map((r) => (r.json as { alert: { id: number } }).alert.id)).toEqual([1, 2]);
  });

  it("a permanent refusal or the attempt limit makes it dead; an unknown sink too", async () => {
    ts = await openTestStore(engine);
    const clock = new ManualClock();
    const rec = new RecordingSink("rec");
    rec.failWith = sinkError("rec", "400", { retryable: false });
    const router = new AlertRouter([{ sink: rec, policy: DEFAULT_POLICY }]);
    const d = new NotificationDispatcher({ now: clock.now }, { store: ts.store, router, logger: nullLogger });
    await enqueue("rec", 1, clock.t);
    await enqueue("gone", 1, clock.t);
    await d.tick();
    expect(await states()).toEqual({ dead: 2 });
  });

  it("rate limit defers without spending attempts", async () => {
    ts = await openTestStore(engine);
    const clock = new ManualClock();
    const rec = new RecordingSink("rec");
    const router = new AlertRouter([
      { sink: rec, policy: { ...DEFAULT_POLICY, ratePerSecond: 1, burst: 2, maxAttempts: 1 } },
    ]);
    const d = new NotificationDispatcher({ now: clock.now }, { store: ts.store, router, logger: nullLogger });
    await enqueue("rec", 5, clock.t);
    await d.tick();
    expect(rec.sent).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await d.tick();
    }
    expect(rec.sent.map((n) => n.alert.id)).toEqual([1, 2, 3, 4, 5]);
    expect(await states()).toEqual({ sent: 5 });
  });

  it("a claim of a crashed process expires and the notification is delivered by the next one", async () => {
    ts = await openTestStore(engine);
    const clock = new ManualClock();
    await enqueue("rec", 1, clock.t);
    // The "crashed" process claimed it and never marked it.
    await ts.store.tx((tx) => notificationsRepository.claimDue(tx, clock.t, 60_000, 10));
    const rec = new RecordingSink("rec");
    const d = new NotificationDispatcher(
      { now: clock.now, leaseMs: 60_000 },
      { store: ts.store, router: new AlertRouter([{ sink: rec, policy: DEFAULT_POLICY }]), logger: nullLogger },
    );
    await d.tick();
    expect(rec.sent).toHaveLength(0);
    clock.advance(61_000);
    await d.tick();
    expect(rec.sent).toHaveLength(1);
  });
});
