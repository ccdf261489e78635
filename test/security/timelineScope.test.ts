import { afterEach, describe, expect, it } from "vitest";
import { type RunningMonitor, startMonitor } from "../../src/cli/monitor/startMonitor.js";
import type { KeyWire } from "../../src/fleet/reportFormat.js";
import { EthereumProtection } from "../../src/protection/ethereum/ethereumProtection.js";
import { nullLogger } from "../../src/util/logger.js";
import { att, blk, GVR0, pubkey } from "../utils/eth.js";
import { report } from "../utils/reports.js";
import { freshStoreUrl } from "../utils/stores.js";

/**
 * Issue 15 item 11: a key's timeline showed the signer's signing records to any owner whose agent
 * reported that key (public keys are public: bob reports alice's key and reads her signing activity).
 * Signing records belong to the signer's owner (`monitor.ethereum.owner`, "demo" under `up`) and admins.
 */
const hexOf = (b: Uint8Array): string => `0x${Buffer.from(b).toString("hex")}`;
const withEth = (host: string, pk: string) => {
  const key: KeyWire = {
    chain: "ethereum",
    pubkey: pk,
    key_type: "bls",
    source: "ethereum:km",
    facts: { source: "local", signer_url: null, readonly: false },
  };
  const r = report(host, [key]);
  return {
    ...r,
    sources: [...r.sources, { id: "ethereum:km", chain: "ethereum" as const, reachable: true, error: null }],
  };
};

describe("signing records in a key's timeline", () => {
  let m: RunningMonitor | null = null;
  let protection: EthereumProtection | null = null;
  let cleanup: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await protection?.close();
    await m?.stop();
    await cleanup?.();
    m = null;
    protection = null;
  });

  const start = async (owner: string | undefined) => {
    const s = await freshStoreUrl("sqlite");
    cleanup = s.cleanup;
    m = await startMonitor({
      db: s.url,
      port: 0,
      logLevel: "silent",
      configDoc: {
        monitor: {
          sweep_interval: 3_600_000,
          dashboard: false,
          ...(owner === undefined ? {} : { ethereum: { owner } }),
        },
      },
    });
    protection = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: m.store, logger: nullLogger });
    return {
      aliceAgent: (await m.tokens.create("alice", "agent")).token,
      alice: (await m.tokens.create("alice", "operator")).token,
      bobAgent: (await m.tokens.create("bob", "agent")).token,
      bob: (await m.tokens.create("bob", "operator")).token,
      admin: (await m.tokens.create("root", "admin")).token,
    };
  };
  const call = async (path: string, token: string, body?: unknown) => {
    const res = await fetch(`${m!.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const signatures = async (pk: string, token: string) =>
    (await call(`/api/v1/keys/${pk}/timeline`, token)).json.data.signatures;

  it("another owner reporting the signer's key sees none of its records", async () => {
    const t = await start("alice");
    const key = pubkey(3);
    const pk = hexOf(key);
    await protection!.checkAndRecord(att(key, 4, 5, 1));
    await protection!.checkAndRecord(blk(key, 5 * 32, 2));
    expect((await call("/api/v1/agent/reports", t.aliceAgent, withEth("a", pk))).status).toBe(202);
    // bob's agent reports alice's (public) key
    expect((await call("/api/v1/agent/reports", t.bobAgent, withEth("b", pk))).status).toBe(202);

    const bob = await signatures(pk, t.bob);
    expect([bob.available, bob.epochs]).toEqual([false, []]);
    const alice = await signatures(pk, t.alice);
    expect([alice.available, alice.epochs]).toEqual([true, [{ epoch: "5", attestations: 1, blocks: 1 }]]);
    expect((await signatures(pk, t.admin)).available).toBe(true);
  });

  it("without a configured signer owner only admins see signing records", async () => {
    const t = await start(undefined);
    const key = pubkey(4);
    const pk = hexOf(key);
    await protection!.checkAndRecord(att(key, 4, 5, 1));
    expect((await call("/api/v1/agent/reports", t.bobAgent, withEth("b", pk))).status).toBe(202);
    expect((await signatures(pk, t.bob)).available).toBe(false);
    expect((await signatures(pk, t.admin)).available).toBe(true);
  });
});
