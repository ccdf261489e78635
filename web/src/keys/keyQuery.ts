import type { KeyRow } from "../api/types.js";

/** What the worker needs of a key row to filter and sort it (the table keeps the full rows). */
export interface KeyRecord {
  pubkey: string;
  chain: string;
  hostId: number;
  host: string;
  active: boolean;
  stale: boolean;
  changedAt: number;
}

export type SortKey = "pubkey" | "chain" | "host" | "status" | "changed";
export type StatusFilter = "" | "active" | "inactive" | "stale";

export interface KeyQuery {
  /** Normalised 0x-prefix ("" for all). */
  prefix: string;
  chain: string;
  status: StatusFilter;
  /** Host id as text ("" for all). */
  host: string;
  sort: SortKey;
  desc: boolean;
}

export const DEFAULT_QUERY: KeyQuery = { prefix: "", chain: "", status: "", host: "", sort: "pubkey", desc: false };

export interface Facets {
  total: number;
  chains: string[];
  hosts: { id: number; name: string }[];
}

export function toRecord(k: KeyRow): KeyRecord {
  return {
    pubkey: k.pubkey,
    chain: k.chain,
    hostId: k.host_id,
    host: k.host,
    active: k.status === "active",
    stale: k.stale,
    changedAt: Date.parse(k.changed_at),
  };
}

/**
 * The search box takes a public-key prefix with or without 0x, any case. Returns the normalised
 * prefix, or null when it is not hex (the box then says so instead of matching nothing).
 */
export function normalizePrefix(input: string): string | null {
  const s = input.trim().toLowerCase();
  const hex = s.startsWith("0x") ? s.slice(2) : s;
  if (!/^[0-9a-f]*$/.test(hex)) return null;
  return hex === "" ? "" : `0x${hex}`;
}

const statusRank = (r: KeyRecord): number => (r.active ? 0 : 1) + (r.stale ? 2 : 0);

function compare(a: KeyRecord, b: KeyRecord, key: SortKey): number {
  switch (key) {
    case "chain":
      return a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0;
    case "host":
      return a.host < b.host ? -1 : a.host > b.host ? 1 : a.hostId - b.hostId;
    case "status":
      return statusRank(a) - statusRank(b);
    case "changed":
      return a.changedAt - b.changedAt;
    default:
      return 0;
  }
}

/** Indices of the rows that match, in the requested order (ties by public key, then host). */
export function queryKeys(rows: readonly KeyRecord[], q: KeyQuery): Int32Array {
  const hostId = q.host === "" ? null : Number(q.host);
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (q.prefix !== "" && !r.pubkey.startsWith(q.prefix)) continue;
    if (q.chain !== "" && r.chain !== q.chain) continue;
    if (hostId !== null && r.hostId !== hostId) continue;
    if (q.status === "active" && !r.active) continue;
    if (q.status === "inactive" && r.active) continue;
    if (q.status === "stale" && !r.stale) continue;
    out.push(i);
  }
  const sign = q.desc ? -1 : 1;
  out.sort((i, j) => {
    const a = rows[i]!;
    const b = rows[j]!;
    const c = compare(a, b, q.sort) || (a.pubkey < b.pubkey ? -1 : a.pubkey > b.pubkey ? 1 : a.hostId - b.hostId);
    return sign * c;
  });
  return Int32Array.from(out);
}

export function facetsOf(rows: readonly KeyRecord[]): Facets {
  const chains = new Set<string>();
  const hosts = new Map<number, string>();
  for (const r of rows) {
    chains.add(r.chain);
    hosts.set(r.hostId, r.host);
  }
  return {
    total: rows.length,
    chains: [...chains].sort(),
    hosts: [...hosts]
      .map(([id, name]) => ({ id, name }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id)),
  };
}

/**
 * A cheap fingerprint of what the table shows of the rows (FNV-1a over each row's identity, state and
 * change time): a refresh that changed nothing is not handed to the worker again (that copy is the
 * costly part, about 2 ms per 1,000 rows).
 */
export function fingerprint(rows: readonly KeyRow[]): string {
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    h = Math.imul(h ^ (v | 0), 0x01000193);
  };
  for (const r of rows) {
    mix(Date.parse(r.changed_at) % 2_147_483_647);
    mix(r.host_id);
    mix((r.status === "active" ? 1 : 0) | (r.stale ? 2 : 0));
    mix(r.pubkey.length > 10 ? Number.parseInt(r.pubkey.slice(2, 10), 16) : 0);
  }
  return `${rows.length}:${(h >>> 0).toString(16)}`;
}
