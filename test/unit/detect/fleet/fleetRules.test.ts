import { afterAll, describe, expect, it } from "vitest";
import { FleetDetector } from "../../../../src/detect/fleet/fleetDetector.js";
import { dedupKey, hostDetections, keyDetections } from "../../../../src/detect/fleet/fleetRules.js";
import {
  DEFAULT_DETECT_OPTIONS,
  type HostState,
  type KeyGroup,
  type Observation,
} from "../../../../src/detect/types.js";
import { rng } from "../../../utils/fuzz.js";

const NOW = 10_000_000;
const obs = (hostId: number, o: Partial<Observation> = {}): Observation => ({
  hostId,
  hostName: `h${hostId}`,
  present: true,
  active: true,
  certainty: 1,
  stale: false,
  signerId: null,
  activeSince: NOW - 1000,
  inactiveSince: null,
  firstSeenAt: NOW - 5000,
  ...o,
});
const group = (...o: Observation[]): KeyGroup => ({ ownerId: 1, chain: "harmony", pubkey: "0xaa", obs: o });
const inactive = (hostId: number, since: number): Observation =>
  obs(hostId, { active: false, activeSince: null, inactiveSince: since });

describe("fleet overlap rule", () => {
  const WINDOW = DEFAULT_DETECT_OPTIONS.keyMovedWindowMs;
  const detect = (g: KeyGroup) => keyDetections(g, NOW, WINDOW);
  const kinds = (g: KeyGroup) => detect(g).map((x) => x.kind);

  const table: [string, KeyGroup, string[]][] = [
    ["one active host", group(obs(1)), []],
    ["two active hosts", group(obs(1), obs(2)), ["double_active"]],
    ["active + backup (inactive) host", group(obs(1), obs(2, { active: false })), []],
    [
      "two hosts on one shared remote signer",
      group(obs(1, { signerId: "https://s" }), obs(2, { signerId: "https://s" })),
      [],
    ],
    [
      "two hosts on two remote signers",
      group(obs(1, { signerId: "https://s" }), obs(2, { signerId: "https://t" })),
      ["double_active"],
    ],
    [
      "shared signer + a local key",
      group(obs(1, { signerId: "https://s" }), obs(2, { signerId: "https://s" }), obs(3)),
      ["double_active"],
    ],
    [
      "stale host still counts (unreachable node is not proof it stopped)",
      group(obs(1), obs(2, { stale: true })),
      ["double_active"],
    ],
    [
      "key left h1 and started on h2",
      group(inactive(1, NOW - 2000), obs(2, { activeSince: NOW - 1000 })),
      ["key_moved"],
    ],
    ["move older than the window", group(inactive(1, NOW - 5e6), obs(2, { activeSince: NOW - 4e6 })), []],
    [
      "key briefly on h2 and gone again: h1 had it all along, no move",
      group(
        obs(1, { activeSince: NOW - 9000 }),
        obs(2, { active: false, activeSince: null, inactiveSince: NOW - 10, firstSeenAt: NOW - 2000 }),
      ),
      [],
    ],
    ["nobody active", group(inactive(1, NOW - 10), inactive(2, NOW - 10)), []],
  ];
  it.each(table)("%s", (_n, g, want) => {
    expect(kinds(g)).toEqual(want);
  });

  it("confidence is the second most certain host (a stale one counts half)", () => {
    expect(detect(group(obs(1), obs(2, { certainty: 0.9 })))[0]!.confidence).toBe(0.9);
    expect(detect(group(obs(1), obs(2, { stale: true })))[0]!.confidence).toBe(0.5);
    expect(detect(group(obs(1, { certainty: 0.9 }), obs(2), obs(3, { certainty: 0.8 })))[0]!.confidence).toBe(0.9);
  });

  it("names the active hosts and keys the event by (kind, chain, key, host set) whatever the order", () => {
    const [a] = detect(group(obs(2), obs(1), obs(3, { active: false })));
    expect(a!.hosts).toEqual(["h1", "h2"]);
    expect(a!.dedupKey).toBe(dedupKey("double_active", 1, "harmony", "0xaa", [1, 2]));
    expect(a!.dedupKey).not.toBe(dedupKey("double_active", 1, "harmony", "0xaa", [1, 2, 3]));
    expect(a!.dedupKey).not.toBe(dedupKey("double_active", 2, "harmony", "0xaa", [1, 2]));
    expect(dedupKey("double_active", 1, "harmony", "0xaa", [2, 1])).toBe(
      dedupKey("double_active", 1, "harmony", "0xaa", [1, 2]),
    );
  });
});

describe("host rules", () => {
  const host = (o: Partial<HostState> = {}): HostState => ({
    id: 1,
    ownerId: 1,
    name: "h1",
    lastReportAt: NOW - 1000,
    intervalMs: 1000,
    inMaintenance: false,
    sources: [],
    ...o,
  });
  const kinds = (h: HostState) => hostDetections([h], NOW, DEFAULT_DETECT_OPTIONS).map((x) => x.kind);

  it("agent_silent after more than 3 intervals, unless in maintenance", () => {
    expect(kinds(host({ lastReportAt: NOW - 3000 }))).toEqual([]);
    expect(kinds(host({ lastReportAt: NOW - 3001 }))).toEqual(["agent_silent"]);
    expect(kinds(host({ lastReportAt: NOW - 3001, inMaintenance: true }))).toEqual([]);
  });

  it("node_unreachable per source, unless in maintenance", () => {
    const sources = [
      { source: "harmony:a", chain: "harmony", reachable: false, error: "ECONNREFUSED", since: NOW - 10 },
      { source: "cometbft:b", chain: "cometbft", reachable: false, error: "timeout", since: NOW - 10 },
    ];
    const ds = hostDetections([host({ sources })], NOW, DEFAULT_DETECT_OPTIONS);
    expect(ds.map((x) => [x.kind, x.chain])).toEqual([
      ["node_unreachable", "harmony"],
      ["node_unreachable", "cometbft"],
    ]);
    expect(new Set(ds.map((x) => x.dedupKey)).size).toBe(2);
    expect(kinds(host({ sources, inMaintenance: true }))).toEqual([]);
  });
});

describe("full pass on worker threads", () => {
  const pooled = new FleetDetector({ workers: 2, batchSize: 1000 });
  afterAll(async () => {
    await pooled.close();
  });

  it("gives the same detections as the plain rules over 20,000 random keys", async () => {
    const r = rng(2024);
    const groups: KeyGroup[] = Array.from({ length: 20_000 }, (_, i) => ({
      ownerId: 1 + (i % 3),
      chain: "ethereum",
      pubkey: `0x${i.toString(16).padStart(96, "0")}`,
      obs: Array.from({ length: 1 + Math.floor(r() * 3) }, (_, j) => {
        const active = r() < 0.5;
        return obs(j + 1, {
          active,
          certainty: Math.round(r() * 10) / 10,
          stale: r() < 0.1,
          signerId: r() < 0.2 ? "https://s" : null,
          activeSince: active ? NOW - Math.floor(r() * 5e6) : null,
          inactiveSince: active ? null : NOW - Math.floor(r() * 5e6),
        });
      }),
    }));
    const a = await pooled.fullPass(groups, [], NOW);
    const b = groups.flatMap((g) => keyDetections(g, NOW, DEFAULT_DETECT_OPTIONS.keyMovedWindowMs));
    expect(a.length).toBeGreaterThan(1000);
    expect(a).toEqual(b);
  });
});
