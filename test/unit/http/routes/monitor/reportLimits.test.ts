import { afterEach, describe, expect, it } from "vitest";
import { type RunningMonitor, startMonitor } from "../../../../../src/cli/monitor/startMonitor.js";
import type { ChainName } from "../../../../../src/fleet/chainFacts.js";
import { DEFAULT_MAX_REPORT_BYTES, REPORT_LIMITS } from "../../../../../src/fleet/reportFormat.js";
import { HttpClient, limitsFor } from "../../../../../src/util/httpClient.js";
import { freshStoreUrl } from "../../../../utils/stores.js";

/** A 200-character node URL, as long as an operator's would reasonably be. */
const longUrl = (tag: string) => `https://${tag}.${"n".repeat(160)}.example.org:5052/${"p".repeat(8)}`.slice(0, 200);
const hex = (i: number, len: number) => i.toString(16).padStart(len, "0");

/** One key entry of the largest kind each chain's agent writes, with long URLs. */
const ENTRY: Record<ChainName, (i: number, source: string) => object> = {
  ethereum: (i, source) => ({
    chain: "ethereum",
    pubkey: `0x${hex(i, 96)}`,
    key_type: "bls",
    source,
    facts: { source: "remote", signer_url: longUrl("signer"), readonly: false },
  }),
  harmony: (i, source) => ({
    chain: "harmony",
    pubkey: `0x${hex(i, 96)}`,
    key_type: "bls",
    source,
    facts: {
      loaded: true,
      mode: "ViewChanging",
      is_backup: false,
      shard_id: 3,
      validator_address: `one1${"q".repeat(38)}`,
    },
  }),
  cometbft: (i, source) => ({
    chain: "cometbft",
    pubkey: `0x${hex(i, 66)}`,
    key_type: "secp256k1",
    source,
    facts: {
      node_key: true,
      file_key: true,
      local_signer: true,
      voting_power: "18446744073709551615",
      catching_up: false,
    },
  }),
  substrate: (i, source) => ({
    chain: "substrate",
    pubkey: `0x${hex(i, 66)}`,
    key_type: "beef",
    source,
    facts: { key_type: "beef", authority: true, has_key: true, session_keys: true },
  }),
};

/** The documented maximum: REPORT_LIMITS.keys keys of one chain from one source. */
function maxReport(chain: ChainName): string {
  const source = `${chain}:${longUrl("node")}`;
  return JSON.stringify({
    version: 1,
    host: `largest-${chain}`,
    agent_version: "1.0.0",
    interval_ms: 15_000,
    observed_at: Date.now(),
    sources: [
      { id: source, chain, reachable: true, error: null, info: { network: "mainnet", node_version: "v".repeat(100) } },
    ],
    keys: Array.from({ length: REPORT_LIMITS.keys }, (_, i) => ENTRY[chain](i, source)),
  });
}

describe("report size and rate limits over HTTP (default configuration)", () => {
  let m: RunningMonitor | null = null;
  let cleanup: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await m?.stop();
    await cleanup?.();
    m = null;
  });
  const start = async (monitor: Record<string, unknown> = {}) => {
    const s = await freshStoreUrl("sqlite");
    cleanup = s.cleanup;
    m = await startMonitor({
      db: s.url,
      port: 0,
      logLevel: "silent",
      configDoc: { monitor: { sweep_interval: 3_600_000, dashboard: false, ...monitor } },
    });
    return (await m.tokens.create("alice", "agent")).token;
  };
  const http = new HttpClient(limitsFor(120_000, 1 << 20));
  const post = (token: string, body: string) =>
    http.request({
      url: `${m!.url}/api/v1/agent/reports`,
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    });

  it("the documented maximum (10,000 keys) of every chain is accepted", async () => {
    const token = await start();
    for (const chain of ["ethereum", "harmony", "cometbft", "substrate"] as const) {
      const body = maxReport(chain);
      // larger than the old 1 MiB limit, within the default one
      expect(body.length).toBeGreaterThan(1 << 20);
      expect(body.length).toBeLessThanOrEqual(DEFAULT_MAX_REPORT_BYTES);
      const res = await post(token, body);
      expect([chain, res.status]).toEqual([chain, 202]);
    }
  }, 240_000);

  it("a host over its rate gets 429 with Retry-After; another host is not held back", async () => {
    const token = await start({ report_rate: { per_minute: 1, burst: 2 } });
    const small = (host: string) =>
      JSON.stringify({
        version: 1,
        host,
        agent_version: "t",
        interval_ms: 1000,
        observed_at: Date.now(),
        sources: [],
        keys: [],
      });
    expect((await post(token, small("a"))).status).toBe(202);
    expect((await post(token, small("a"))).status).toBe(202);
    const refused = await post(token, small("a"));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body.toString()).code).toBe("ERR_RATE_LIMITED");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await post(token, small("b"))).status).toBe(202);
  });
});
