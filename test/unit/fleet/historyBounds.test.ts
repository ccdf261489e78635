import { afterEach, describe, expect, it } from "vitest";
import { pruneFleetHistory } from "../../../src/fleet/historyRetention.js";
import { IngestService } from "../../../src/fleet/ingestService.js";
import { parseReport } from "../../../src/fleet/reportFormat.js";
import { ReportRateLimitedError, ReportRateLimiter } from "../../../src/fleet/reportRateLimit.js";
import type { AuthContext } from "../../../src/fleet/tokens.js";
import { hostKeysRepository } from "../../../src/store/fleet/hostKeysRepository.js";
import { ownersRepository } from "../../../src/store/fleet/ownersRepository.js";
import { nullLogger } from "../../../src/util/logger.js";
import { ManualClock, monitorParts } from "../../utils/monitorParts.js";
import { harmonyKey, hkey, report } from "../../utils/reports.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const MAX = 4;

describe.each(ENGINES)("bounded fleet history on %s", (engine) => {
  let ts: TestStore;
  let clock: ManualClock;
  let auth: AuthContext;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await ts?.dispose();
  });
  const setup = async (ingest: Parameters<typeof monitorParts>[2] = {}) => {
    ts = await openTestStore(engine);
    clock = new ManualClock();
    const parts = monitorParts(ts.store, clock, ingest);
    closers.push(() => parts.ingest.close());
    const ownerId = await ts.store.tx((tx) => ownersRepository.upsertOwner(tx, "alice", clock.t));
    auth = { tokenId: 1, ownerId, ownerName: "alice", role: "agent" };
    return parts;
  };
  const count = (sql: string) => ts.store.tx(async (tx) => Number((await tx.all<{ n: unknown }>(sql))[0]!.n));
  const set = (s: number, n: number) => Array.from({ length: n }, (_, i) => harmonyKey(hkey(s * 1000 + i)));

  it.each([
    ["in one transaction", Number.POSITIVE_INFINITY],
    ["in slices", 3],
  ])(
    "a key set swapped back and forth stays within the cap per key (%s); merged intervals keep every change counted",
    async (_, sliceRows) => {
      const p = await setup({ ingest: { historyMax: MAX, reportsKept: 2, sliceRows } });
      const swaps = 6 * MAX;
      for (let i = 0; i < swaps; i++) {
        await p.ingest.ingest(auth, parseReport(report("a", set(i % 2, 5), { observedAt: clock.t })));
        clock.advance(1000);
      }
      // 10 keys on the host, each at most MAX intervals, whatever the number of swaps
      expect(await count("SELECT count(*) AS n FROM fleet_key_history")).toBeLessThanOrEqual(10 * MAX);
      expect(await count("SELECT max(history_count) AS n FROM fleet_host_keys")).toBeLessThanOrEqual(MAX);
      // report bodies: the newest two
      expect(await count("SELECT count(*) AS n FROM fleet_reports")).toBe(2);
      const h = await ts.store.tx((tx) => hostKeysRepository.history(tx, auth.ownerId, hkey(0), 0, clock.t));
      // key 0 of set 0: present on even reports, absent on odd ones; every state is accounted for
      expect(h.reduce((n, r) => n + r.changes, 0)).toBe(swaps);
      const merged = h.filter((r) => r.changes > 1);
      expect(merged.length).toBeGreaterThan(0);
      // a merged span says what happened at some point in it: present and active
      for (const r of merged) expect([r.present, r.active]).toEqual([true, true]);
      // intervals still tile time without gaps or overlaps, the last one open
      for (let i = 1; i < h.length; i++) expect(h[i]!.fromAt).toBe(h[i - 1]!.toAt);
      expect(h[h.length - 1]!.toAt).toBeNull();
    },
  );

  it("retention deletes intervals closed before the cut-off and keys gone before it; open ones stay", async () => {
    const p = await setup();
    await p.ingest.ingest(auth, parseReport(report("a", set(0, 3), { observedAt: clock.t })));
    clock.advance(10_000);
    await p.ingest.ingest(auth, parseReport(report("a", set(1, 3), { observedAt: clock.t })));
    const cut = clock.t + 1;
    clock.advance(10_000);
    await p.ingest.ingest(auth, parseReport(report("a", set(1, 2), { observedAt: clock.t })));
    expect(await count("SELECT count(*) AS n FROM fleet_key_history")).toBe(3 + 3 + 3 + 1);
    const deleted = await pruneFleetHistory(ts.store, cut);
    // gone: set 0's first intervals (closed at the swap) and set 0's rows (left at the swap)
    expect(deleted).toBe(3 + 3);
    expect(await count("SELECT count(*) AS n FROM fleet_key_history WHERE to_at IS NULL")).toBe(3 + 3);
    expect(await count("SELECT count(*) AS n FROM fleet_host_keys")).toBe(3);
  });

  it("a host over its report rate is refused before anything is stored (ERR_RATE_LIMITED with the wait)", async () => {
    const limiter = new ReportRateLimiter({ perMinute: 60, burst: 2, now: () => clock.t });
    await setup();
    const ingest = new IngestService({ now: clock.now }, { store: ts.store, logger: nullLogger, rateLimit: limiter });
    closers.push(() => ingest.close());
    const send = (host: string) => ingest.ingest(auth, parseReport(report(host, set(0, 1), { observedAt: clock.t })));
    await send("a");
    await send("a");
    const e = await send("a").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReportRateLimitedError);
    expect((e as ReportRateLimitedError).type).toEqual({ code: "ERR_RATE_LIMITED", retryAfterMs: 1000 });
    expect(await count("SELECT reports_total AS n FROM fleet_hosts")).toBe(2);
    await send("b"); // another host has its own bucket
    clock.advance(1000);
    await send("a");
    expect(await count("SELECT sum(reports_total) AS n FROM fleet_hosts")).toBe(4);
  });
});
