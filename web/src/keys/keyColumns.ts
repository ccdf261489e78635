import type { KeyRow } from "../api/types.js";
import type { KeyRecord } from "./keyQuery.js";

/**
 * Key rows as columns for the trip to the worker: the public keys in one string, numbers in typed
 * arrays that are transferred (moved, not copied), chain names once. Copying 100,000 small objects
 * would hold the page for about a quarter of a second; this costs a few milliseconds.
 */
export interface KeyColumns {
  n: number;
  /** Public keys joined with "\n". */
  pubkeys: string;
  hostIds: Int32Array;
  /** bit 0: active, bit 1: stale. */
  flags: Uint8Array;
  changedAt: Float64Array;
  chainIdx: Uint16Array;
  chains: string[];
  hostNames: [number, string][];
}

export function encodeKeys(rows: readonly KeyRow[]): KeyColumns {
  const n = rows.length;
  const hostIds = new Int32Array(n);
  const flags = new Uint8Array(n);
  const changedAt = new Float64Array(n);
  const chainIdx = new Uint16Array(n);
  const chains: string[] = [];
  const chainOf = new Map<string, number>();
  const hostNames = new Map<number, string>();
  const pubkeys: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    pubkeys[i] = r.pubkey;
    hostIds[i] = r.host_id;
    flags[i] = (r.status === "active" ? 1 : 0) | (r.stale ? 2 : 0);
    changedAt[i] = Date.parse(r.changed_at);
    let c = chainOf.get(r.chain);
    if (c === undefined) {
      c = chains.length;
      chains.push(r.chain);
      chainOf.set(r.chain, c);
    }
    chainIdx[i] = c;
    hostNames.set(r.host_id, r.host);
  }
  return { n, pubkeys: pubkeys.join("\n"), hostIds, flags, changedAt, chainIdx, chains, hostNames: [...hostNames] };
}

/** The buffers to transfer with a KeyColumns message. */
export function transferables(c: KeyColumns): ArrayBuffer[] {
  return [c.hostIds.buffer, c.flags.buffer, c.changedAt.buffer, c.chainIdx.buffer] as ArrayBuffer[];
}

/** Back to records, in the worker. */
export function decodeKeys(c: KeyColumns): KeyRecord[] {
  const pubkeys = c.n === 0 ? [] : c.pubkeys.split("\n");
  const hosts = new Map(c.hostNames);
  const out: KeyRecord[] = new Array(c.n);
  for (let i = 0; i < c.n; i++) {
    const hostId = c.hostIds[i]!;
    out[i] = {
      pubkey: pubkeys[i]!,
      chain: c.chains[c.chainIdx[i]!]!,
      hostId,
      host: hosts.get(hostId) ?? "",
      active: (c.flags[i]! & 1) !== 0,
      stale: (c.flags[i]! & 2) !== 0,
      changedAt: c.changedAt[i]!,
    };
  }
  return out;
}
