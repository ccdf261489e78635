import { afterEach, describe, expect, it } from "vitest";
import { parseReport } from "../../../src/fleet/reportFormat.js";
import type { AuthContext } from "../../../src/fleet/tokens.js";
import { hostKeysRepository } from "../../../src/store/fleet/hostKeysRepository.js";
import { ownersRepository } from "../../../src/store/fleet/ownersRepository.js";
import type { SqlTx, Store } from "../../../src/store/types.js";
import { ManualClock, monitorParts } from "../../utils/monitorParts.js";
import { harmonyKey, hkey, report } from "../../utils/reports.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

interface TxRecord {
  /** fleet_host_keys rows written by this transaction. */
  keyRows: number;
  /** Event-loop turns seen before it started (a ticker re-arms itself with setImmediate). */
  turns: number;
}

/** The store as ingestion sees it, recording per transaction how many key rows it wrote. */
function recordingStore(inner: Store, turns: () => number) {
  const txs: TxRecord[] = [];
  const store: Store = Object.create(inner) as Store;
  store.tx = (fn, o) =>
    inner.tx((tx) => {
      const rec: TxRecord = { keyRows: 0, turns: turns() };
      txs.push(rec);
      const view = new Proxy(tx, {
        get(t, k) {
          if (k === "run")
            return async (sql: string, params?: readonly unknown[]) => {
              if (/INSERT INTO fleet_host_keys/.test(sql))
                rec.keyRows += Array.isArray(params?.[0]) ? (params[0] as unknown[]).length : 1;
              return t.run(sql, params as never);
            };
          const v = (t as unknown as Record<string | symbol, unknown>)[k];
          return typeof v === "function" ? v.bind(t) : v;
        },
      }) as SqlTx;
      return fn(view);
    }, o);
  return { store, txs };
}

const SLICE = 40;
const N = 300;

describe.each(ENGINES)("large reports in bounded slices on %s", (engine) => {
  let ts: TestStore;
  let clock: ManualClock;
  let auth: AuthContext;
  let turns = 0;
  let ticking = false;
  const tick = (): void => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    ticking = false;
    for (const c of closers.splice(0)) await c();
    await ts?.dispose();
  });
  const setup = async (ingest: Parameters<typeof monitorParts>[2] = {}) => {
    ts = await openTestStore(engine);
    clock = new ManualClock();
    const rec = recordingStore(ts.store, () => turns);
    const parts = monitorParts(rec.store, clock, ingest);
    closers.push(() => parts.ingest.close());
    const ownerId = await ts.store.tx((tx) => ownersRepository.upsertOwner(tx, "alice", clock.t));
    auth = { tokenId: 1, ownerId, ownerName: "alice", role: "agent" };
    return { ...parts, txs: rec.txs };
  };
  const keys = (set: number) => Array.from({ length: N }, (_, i) => harmonyKey(hkey(set * 10_000 + i)));
  const send = (p: ReturnType<typeof monitorParts>, host: string, set: number) =>
    p.ingest.ingest(auth, parseReport(report(host, keys(set), { observedAt: clock.t })));
  const count = (sql: string) => ts.store.tx(async (tx) => Number((await tx.all<{ n: unknown }>(sql))[0]!.n));

  it("a swap of 300 keys is written in transactions of at most one slice, with the event loop running between them", async () => {
    const p = await setup({ ingest: { sliceRows: SLICE, now: () => clock.t } });
    await send(p, "a", 1);
    clock.advance(1000);
    p.txs.length = 0;
    ticking = true;
    tick();
    expect((await send(p, "a", 2)).changed).toBe(true);
    ticking = false;
    const writing = p.txs.filter((t) => t.keyRows > 0);
    // 600 rows change (300 leave, 300 arrive): at least 600 / 40 transactions, none above the slice
    expect(Math.max(...writing.map((t) => t.keyRows))).toBeLessThanOrEqual(SLICE);
    expect(writing.length).toBeGreaterThanOrEqual((2 * N) / SLICE);
    // every transaction of the report began in a later event-loop turn than the one before it
    for (let i = 1; i < p.txs.length; i++) expect(p.txs[i]!.turns).toBeGreaterThan(p.txs[i - 1]!.turns);
    // the result is the report: set 2 present and active, set 1 gone; one history step per key
    const rows = await ts.store.tx((tx) => hostKeysRepository.listKeys(tx, { ownerId: auth.ownerId, limit: 10_000 }));
    expect(rows.map((r) => r.pubkey).sort()).toEqual(
      keys(2)
        .map((k) => k.pubkey)
        .sort(),
    );
    expect(await count("SELECT count(*) AS n FROM fleet_host_keys WHERE present = FALSE")).toBe(N);
    expect(await count("SELECT count(*) AS n FROM fleet_key_history WHERE to_at IS NULL")).toBe(2 * N);
    expect(await count("SELECT count(*) AS n FROM fleet_key_history")).toBe(3 * N);
    // the digest was stored last: the same report again is a heartbeat
    clock.advance(1000);
    expect((await send(p, "a", 2)).changed).toBe(false);
  });

  it("a transaction submitted while a large report is written commits before the report is answered", async () => {
    const p = await setup({ ingest: { sliceRows: SLICE } });
    await send(p, "a", 1);
    const order: string[] = [];
    let other: Promise<void> | null = null;
    const writing = send(p, "a", 2).then(() => order.push("report"));
    // the first slice of the report has committed once its rows are visible: then the "signer" writes
    while (other === null) {
      await new Promise((r) => setImmediate(r));
      if ((await count("SELECT count(*) AS n FROM fleet_host_keys WHERE present = FALSE")) > 0)
        other = ts.store.tx(async (tx) => {
          await tx.all("SELECT 1 AS n");
          order.push("signer");
        });
    }
    await Promise.all([writing, other]);
    expect(order).toEqual(["signer", "report"]);
  });

  it("a slice that fails leaves the host's digest unset: the same report again is applied in full", async () => {
    let calls = 0;
    let failAt = -1;
    const p = await setup({ ingest: { sliceRows: SLICE } });
    const raise = p.alerts.raiseInTx.bind(p.alerts);
    p.alerts.raiseInTx = async (tx, d, at) => {
      if (++calls === failAt) throw new Error("crash between slices");
      return raise(tx, d, at);
    };
    await send(p, "a", 1);
    calls = 0;
    failAt = 4;
    await expect(send(p, "a", 2)).rejects.toThrow("crash between slices");
    expect(await count("SELECT count(*) AS n FROM fleet_hosts WHERE digest IS NULL")).toBe(1);
    failAt = -1;
    expect((await send(p, "a", 2)).changed).toBe(true);
    const rows = await ts.store.tx((tx) => hostKeysRepository.listKeys(tx, { ownerId: auth.ownerId, limit: 10_000 }));
    expect(rows.map((r) => r.pubkey).sort()).toEqual(
      keys(2)
        .map((k) => k.pubkey)
        .sort(),
    );
    expect(await count("SELECT count(*) AS n FROM fleet_key_history WHERE to_at IS NULL")).toBe(2 * N);
  });

  it("another process's report of the host during the slices wins; the older one stops", async () => {
    const p = await setup({ ingest: { sliceRows: SLICE } });
    const other = monitorParts(ts.store, clock, { ingest: { sliceRows: Number.POSITIVE_INFINITY } });
    closers.push(() => other.ingest.close());
    await send(p, "a", 1);
    let sent: Promise<unknown> | null = null;
    const raise = p.alerts.raiseInTx.bind(p.alerts);
    p.alerts.raiseInTx = async (tx, d, at) => {
      // after the first slice, the other process stores a report with only key 3 of set 3
      sent ??= new Promise((r) => setImmediate(r)).then(() =>
        other.ingest.ingest(auth, parseReport(report("a", [harmonyKey(hkey(30_003))], { observedAt: clock.t }))),
      );
      return raise(tx, d, at);
    };
    await send(p, "a", 2);
    await sent;
    const rows = await ts.store.tx((tx) => hostKeysRepository.listKeys(tx, { ownerId: auth.ownerId, limit: 10_000 }));
    expect(rows.map((r) => r.pubkey)).toEqual([hkey(30_003)]);
  });
});
