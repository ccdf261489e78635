import { describe, expect, it } from "vitest";
import { diffInventory } from "../../../src/fleet/inventoryDiff.js";
import { parseReport } from "../../../src/fleet/reportFormat.js";
import type { HostKeyRow } from "../../../src/store/fleet/hostKeysRepository.js";
import { harmonyKey, hkey, report } from "../../utils/reports.js";

const ctx = (at: number) => ({ hostId: 1, ownerId: 1, at });
const asMap = (rows: HostKeyRow[]) => new Map(rows.map((r) => [`${r.chain}|${r.pubkey}`, r]));

describe("inventory diff", () => {
  it("a new active key is inserted, touched and opens history; a repeat changes nothing", () => {
    const d = diffInventory(new Map(), parseReport(report("h", [harmonyKey(hkey(1))])), ctx(100));
    expect(d.rows).toHaveLength(1);
    expect(d.rows[0]).toMatchObject({
      active: true,
      present: true,
      activeSince: 100,
      inactiveSince: null,
      stale: false,
    });
    expect(d.touched).toHaveLength(1);
    expect(d.history).toHaveLength(1);
    const again = diffInventory(asMap(d.rows), parseReport(report("h", [harmonyKey(hkey(1))])), ctx(200));
    expect(again).toEqual({ rows: [], history: [], touched: [] });
  });

  it("a node going unreachable keeps the last known activity, marked stale", () => {
    const first = diffInventory(new Map(), parseReport(report("h", [harmonyKey(hkey(1))])), ctx(100)).rows;
    const down = parseReport(
      report("h", [{ ...harmonyKey(hkey(1)), facts: { loaded: false, mode: null, is_backup: null, shard_id: null } }], {
        reachable: false,
      }),
    );
    const d = diffInventory(asMap(first), down, ctx(200));
    expect(d.rows[0]).toMatchObject({ active: true, stale: true, activeSince: 100, certainty: 1 });
    expect(d.rows[0]!.facts).toBe(first[0]!.facts);
    expect(d.touched).toHaveLength(1);
  });

  it("a key that turns backup or leaves the host becomes inactive with the time it stopped", () => {
    const first = diffInventory(
      new Map(),
      parseReport(report("h", [harmonyKey(hkey(1)), harmonyKey(hkey(2))])),
      ctx(100),
    ).rows;
    const d = diffInventory(asMap(first), parseReport(report("h", [harmonyKey(hkey(1), "Normal", true)])), ctx(300));
    const byKey = new Map(d.rows.map((r) => [r.pubkey, r]));
    expect(byKey.get(hkey(1))).toMatchObject({ present: true, active: false, inactiveSince: 300, activeSince: null });
    expect(byKey.get(hkey(2))).toMatchObject({ present: false, active: false, inactiveSince: 300 });
    expect(d.touched).toHaveLength(2);
  });
});
