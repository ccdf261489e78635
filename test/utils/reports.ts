import type { AgentReportWire, KeyWire } from "../../src/fleet/reportFormat.js";

/** A Harmony BLS key for tests (0x + 96 hex). */
export const hkey = (n: number): string => `0x${n.toString(16).padStart(8, "0").repeat(12)}`;

export function harmonyKey(pubkey: string, mode = "Normal", isBackup = false, source = "harmony:node"): KeyWire {
  return {
    chain: "harmony",
    pubkey,
    key_type: "bls",
    source,
    facts: { loaded: true, mode, is_backup: isBackup, shard_id: 0 },
  };
}

/** A report of one host with one Harmony node source holding `keys`. */
export function report(
  host: string,
  keys: KeyWire[],
  o: { reachable?: boolean; intervalMs?: number; observedAt?: number } = {},
): AgentReportWire {
  return {
    version: 1,
    host,
    agent_version: "test",
    interval_ms: o.intervalMs ?? 1000,
    observed_at: o.observedAt ?? Date.now(),
    sources: [
      {
        id: "harmony:node",
        chain: "harmony",
        reachable: o.reachable ?? true,
        error: o.reachable === false ? "down" : null,
      },
    ],
    keys,
  };
}
