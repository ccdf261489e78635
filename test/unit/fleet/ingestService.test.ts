import { afterEach, describe, expect, it } from "vitest";
import type { IngestService } from "../../../src/fleet/ingestService.js";
import { parseReport } from "../../../src/fleet/reportFormat.js";
import type { AuthContext } from "../../../src/fleet/tokens.js";
import { hostKeysRepository } from "../../../src/store/fleet/hostKeysRepository.js";
import { ownersRepository } from "../../../src/store/fleet/ownersRepository.js";
import { ManualClock, monitorParts } from "../../utils/monitorParts.js";
import { harmonyKey, hkey, report } from "../../utils/reports.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

describe.each(ENGINES)("report ingestion on %s", (engine) => {
  let ts: TestStore;
  let clock: ManualClock;
  let parts: ReturnType<typeof monitorParts>;
  let auth: AuthContext;
  const setup = async () => {
    ts = await openTestStore(engine);
    clock = new ManualClock();
    parts = monitorParts(ts.store, clock);
    const ownerId = await ts.store.tx((tx) => ownersRepository.upsertOwner(tx, "alice", clock.t));
    auth = { tokenId: 1, ownerId, ownerName: "alice", role: "agent" };
  };
  afterEach(async () => {
    await parts?.ingest.close();
    await ts?.dispose();
  });
  const send = (ingest: IngestService, host: string, ...keys: Parameters<typeof report>[1]) =>
    ingest.ingest(auth, parseReport(report(host, keys, { observedAt: clock.t })));
  const count = (sql: string) => ts.store.tx(async (tx) => Number((await tx.all<{ n: unknown }>(sql))[0]!.n));

  it("stores history intervals on change only; an identical report is a heartbeat", async () => {
    await setup();
    expect((await send(parts.ingest, "a", harmonyKey(hkey(1)))).changed).toBe(true);
    clock.advance(1000);
    expect((await send(parts.ingest, "a", harmonyKey(hkey(1)))).changed).toBe(false);
    clock.advance(1000);
    await send(parts.ingest, "a", harmonyKey(hkey(1), "Syncing"));
    clock.advance(1000);
    await send(parts.ingest, "a");
    expect(await count("SELECT count(*) AS n FROM fleet_reports")).toBe(3);
    const h = await ts.store.tx((tx) => hostKeysRepository.history(tx, auth.ownerId, hkey(1), 0, clock.t));
    expect(
      h.map((r) => [r.present, r.active, r.fromAt - h[0]!.fromAt, r.toAt === null ? null : r.toAt - h[0]!.fromAt]),
    ).toEqual([
      [true, true, 0, 2000],
      [true, false, 2000, 3000],
      [false, false, 3000, null],
    ]);
    expect(await count("SELECT reports_total AS n FROM fleet_hosts")).toBe(4);
  });

  it("two hosts with the same key in Normal mode raise one double_active at once; backup raises none", async () => {
    await setup();
    await send(parts.ingest, "a", harmonyKey(hkey(1)));
    await send(parts.ingest, "b", harmonyKey(hkey(1), "Normal", true));
    expect(await parts.alerts.list({ ownerId: auth.ownerId, limit: 10 })).toEqual([]);
    await send(parts.ingest, "b", harmonyKey(hkey(1)));
    const alerts = await parts.alerts.list({ ownerId: auth.ownerId, limit: 10 });
    expect(alerts.map((a) => [a.kind, a.hosts])).toEqual([["double_active", ["a", "b"]]]);
  });

  it("a node that stops answering keeps its key active (stale): the overlap still fires", async () => {
    await setup();
    await send(parts.ingest, "a", harmonyKey(hkey(1)));
    await parts.ingest.ingest(
      auth,
      parseReport(
        report(
          "a",
          [{ ...harmonyKey(hkey(1)), facts: { loaded: false, mode: null, is_backup: null, shard_id: null } }],
          { reachable: false },
        ),
      ),
    );
    await send(parts.ingest, "b", harmonyKey(hkey(1)));
    const [a] = await parts.alerts.list({ ownerId: auth.ownerId, limit: 10 });
    expect(a).toMatchObject({ kind: "double_active", confidence: 0.5 });
  });

  it("20 hosts report one key at the same moment (two ingest services, as two processes): every pair is seen, one alert per host set", async () => {
    await setup();
    const other = monitorParts(ts.store, clock);
    try {
      const hosts = Array.from({ length: 20 }, (_, i) => `h${i}`);
      await Promise.all(hosts.map((h, i) => send(i % 2 === 0 ? parts.ingest : other.ingest, h, harmonyKey(hkey(7)))));
      const open = await parts.alerts.list({ ownerId: auth.ownerId, status: "open", limit: 100 });
      // Whatever the interleaving, the last decision saw every host: one alert names all 20.
      expect(open.some((a) => a.hosts.length === 20)).toBe(true);
      expect(new Set(open.map((a) => a.dedupKey)).size).toBe(open.length);
      expect(await count("SELECT count(*) AS n FROM fleet_host_keys WHERE active = TRUE")).toBe(20);
    } finally {
      await other.ingest.close();
    }
  });

  it("reports survive a reopen of the store (durable once acknowledged)", async () => {
    await setup();
    await send(parts.ingest, "a", harmonyKey(hkey(3)));
    await parts.ingest.close();
    await ts.store.close();
    const { openStore } = await import("../../../src/store/openStore.js");
    const store = await openStore(ts.url);
    try {
      const rows = await store.tx((tx) => hostKeysRepository.listKeys(tx, { ownerId: auth.ownerId, limit: 10 }));
      expect(rows.map((r) => [r.hostName, r.pubkey, r.active])).toEqual([["a", hkey(3), true]]);
    } finally {
      await store.close();
    }
  });
});
