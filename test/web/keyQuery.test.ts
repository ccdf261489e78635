import { describe, expect, it } from "vitest";
import {
  DEFAULT_QUERY,
  facetsOf,
  fingerprint,
  type KeyQuery,
  type KeyRecord,
  normalizePrefix,
  queryKeys,
  toRecord,
} from "../../web/src/keys/keyQuery.js";
import { rng } from "../utils/fuzz.js";
import { keyRow } from "./fakeApi.js";

const rows = (n: number): KeyRecord[] => Array.from({ length: n }, (_, i) => toRecord(keyRow(i)));

describe("key filtering and sorting (the worker's logic)", () => {
  it.each([
    ["", ""],
    ["0x", ""],
    ["0xAB", "0xab"],
    ["ab12", "0xab12"],
    ["  0Xab ", "0xab"],
    ["0xag", null],
    ["xyz", null],
    ["0x 1", null],
  ])("prefix %j -> %j", (input, want) => {
    expect(normalizePrefix(input)).toBe(want);
  });

  it("filters by prefix, chain, host and status together", () => {
    const data = rows(200);
    const q: KeyQuery = { ...DEFAULT_QUERY, prefix: "0x00000", chain: "ethereum", host: "2", status: "active" };
    const got = [...queryKeys(data, q)].map((i) => data[i]!);
    expect(got.length).toBeGreaterThan(0);
    for (const r of got) {
      expect(r.pubkey.startsWith("0x00000")).toBe(true);
      expect([r.chain, r.hostId, r.active]).toEqual(["ethereum", 2, true]);
    }
    // exactly the rows that match: none left out
    const want = data.filter(
      (r) => r.pubkey.startsWith("0x00000") && r.chain === "ethereum" && r.hostId === 2 && r.active,
    );
    expect(got.length).toBe(want.length);
    const stale = [...queryKeys(data, { ...DEFAULT_QUERY, status: "stale" })].map((i) => data[i]!);
    expect(stale.every((r) => r.stale)).toBe(true);
    expect(stale.length).toBe(data.filter((r) => r.stale).length);
  });

  it("sorts by each column both ways, ties by public key then host", () => {
    const data = rows(60);
    for (const sort of ["pubkey", "chain", "host", "status", "changed"] as const) {
      for (const desc of [false, true]) {
        const ix = [...queryKeys(data, { ...DEFAULT_QUERY, sort, desc })];
        expect(ix).toHaveLength(60);
        const key = (r: KeyRecord) =>
          sort === "pubkey"
            ? r.pubkey
            : sort === "chain"
              ? r.chain
              : sort === "host"
                ? r.host
                : sort === "status"
                  ? (r.active ? 0 : 1) + (r.stale ? 2 : 0)
                  : r.changedAt;
        for (let i = 1; i < ix.length; i++) {
          const a = key(data[ix[i - 1]!]!);
          const b = key(data[ix[i]!]!);
          if (desc) expect(a >= b, `${sort} desc at ${i}`).toBe(true);
          else expect(a <= b, `${sort} asc at ${i}`).toBe(true);
        }
      }
    }
  });

  it("random queries over 10,000 rows agree with a plain scan (seeded fuzz)", () => {
    const data = Array.from({ length: 10_000 }, (_, i) => toRecord(keyRow(i * 7919)));
    const r = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let n = 0; n < 60; n++) {
      const q: KeyQuery = {
        prefix: pick(["", "0x", "0x0", "0x01", "0x1a", "0x00f", "0xffff"]).replace(/^0x$/, ""),
        chain: pick(["", "ethereum", "harmony", "cometbft"]),
        host: pick(["", "1", "3", "9"]),
        status: pick(["", "active", "inactive", "stale"] as const),
        sort: pick(["pubkey", "chain", "host", "status", "changed"] as const),
        desc: r() < 0.5,
      };
      const got = new Set(queryKeys(data, q));
      const want = data
        .map((row, i) => ({ row, i }))
        .filter(
          ({ row }) =>
            row.pubkey.startsWith(q.prefix) &&
            (q.chain === "" || row.chain === q.chain) &&
            (q.host === "" || row.hostId === Number(q.host)) &&
            (q.status === "" ||
              (q.status === "active" && row.active) ||
              (q.status === "inactive" && !row.active) ||
              (q.status === "stale" && row.stale)),
        );
      expect(got.size, JSON.stringify(q)).toBe(want.length);
      for (const w of want) expect(got.has(w.i)).toBe(true);
    }
  });

  it("a refresh that changed nothing has the same fingerprint; any change to a shown row changes it", () => {
    const base = Array.from({ length: 500 }, (_, i) => keyRow(i));
    const same = base.map((r) => ({ ...r }));
    expect(fingerprint(same)).toBe(fingerprint(base));
    const variants = [
      (r: (typeof base)[number]) => ({
        ...r,
        status: r.status === "active" ? ("inactive" as const) : ("active" as const),
      }),
      (r: (typeof base)[number]) => ({ ...r, stale: !r.stale }),
      (r: (typeof base)[number]) => ({ ...r, host_id: r.host_id + 10 }),
      (r: (typeof base)[number]) => ({ ...r, changed_at: new Date(Date.parse(r.changed_at) + 1000).toISOString() }),
    ];
    for (const v of variants) {
      const changed = base.map((r, i) => (i === 123 ? v(r) : r));
      expect(fingerprint(changed)).not.toBe(fingerprint(base));
    }
    expect(fingerprint(base.slice(1))).not.toBe(fingerprint(base));
  });

  it("facets list every chain and host once, sorted", () => {
    const f = facetsOf(rows(20));
    expect(f.total).toBe(20);
    expect(f.chains).toEqual(["ethereum", "harmony"]);
    expect(f.hosts).toEqual([1, 2, 3, 4].map((id) => ({ id, name: `host-${id}` })));
  });
});
