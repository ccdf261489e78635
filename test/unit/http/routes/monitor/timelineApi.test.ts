import { afterEach, describe, expect, it } from "vitest";
import { type RunningMonitor, startMonitor } from "../../../../../src/cli/monitor/startMonitor.js";
import type { KeyWire } from "../../../../../src/fleet/reportFormat.js";
import { EthereumProtection } from "../../../../../src/protection/ethereum/ethereumProtection.js";
import { nullLogger } from "../../../../../src/util/logger.js";
import { att, blk, GVR0, pubkey } from "../../../../utils/eth.js";
import { harmonyKey, hkey, report } from "../../../../utils/reports.js";
import { ENGINES, freshStoreUrl } from "../../../../utils/stores.js";

const hexOf = (b: Uint8Array): string => `0x${Buffer.from(b).toString("hex")}`;
const ethKey = (pk: string): KeyWire => ({
  chain: "ethereum",
  pubkey: pk,
  key_type: "bls",
  source: "ethereum:km",
  facts: { source: "local", signer_url: null, readonly: false },
});

/** A report of one host with an Ethereum keymanager source (and the Harmony one of report()). */
const withEth = (host: string, keys: KeyWire[]) => {
  const r = report(host, keys);
  return {
    ...r,
    sources: [...r.sources, { id: "ethereum:km", chain: "ethereum" as const, reachable: true, error: null }],
  };
};

describe.each(ENGINES)("key timeline API on %s", (engine) => {
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

  const start = async () => {
    const s = await freshStoreUrl(engine);
    cleanup = s.cleanup;
    m = await startMonitor({
      db: s.url,
      port: 0,
      logLevel: "silent",
      // alice owns the signer whose records are in this store
      configDoc: { monitor: { sweep_interval: 3_600_000, dashboard: false, ethereum: { owner: "alice" } } },
    });
    protection = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: m.store, logger: nullLogger });
    return {
      agent: (await m.tokens.create("alice", "agent")).token,
      alice: (await m.tokens.create("alice", "operator")).token,
      bob: (await m.tokens.create("bob", "operator")).token,
      admin: (await m.tokens.create("root", "admin")).token,
    };
  };
  const call = async (path: string, token: string | null, init: RequestInit = {}) => {
    const res = await fetch(`${m!.url}${path}`, {
      ...init,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        "content-type": "application/json",
      },
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const post = (token: string, body: unknown) =>
    call("/api/v1/agent/reports", token, { method: "POST", body: JSON.stringify(body) });

  it("joins the key's hosts over time, its alerts and the signer's records per epoch; owner-scoped", async () => {
    const tok = await start();
    const key = pubkey(7);
    const pk = hexOf(key);
    // The key on two of alice's hosts: history on both and a double_active alert.
    expect((await post(tok.agent, withEth("a", [ethKey(pk)]))).status).toBe(202);
    expect((await post(tok.agent, withEth("b", [ethKey(pk)]))).status).toBe(202);
    // The signer recorded attestations for targets 10, 11, 13 (12 missed) and a block in epoch 11 (slot 11*32+5).
    for (const [s, t, r] of [
      [9, 10, 1],
      [10, 11, 2],
      [11, 13, 3],
    ] as const)
      await protection!.checkAndRecord(att(key, s, t, r));
    await protection!.checkAndRecord(blk(key, 11 * 32 + 5, 9));

    const r = await call(`/api/v1/keys/${pk}/timeline`, tok.alice);
    expect(r.status).toBe(200);
    const d = r.json.data;
    expect(d.pubkey).toBe(pk);
    expect(d.intervals.map((i: any) => [i.host, i.chain, i.active, i.to])).toEqual([
      ["a", "ethereum", true, null],
      ["b", "ethereum", true, null],
    ]);
    expect(d.alerts.map((a: any) => [a.kind, a.hosts])).toEqual([["double_active", ["a", "b"]]]);
    expect(d.signatures).toEqual({
      available: true,
      reason: null,
      slots_per_epoch: 32,
      from_epoch: "0",
      to_epoch: "13",
      epochs: [
        { epoch: "10", attestations: 1, blocks: 0 },
        { epoch: "11", attestations: 1, blocks: 1 },
        { epoch: "13", attestations: 1, blocks: 0 },
      ],
    });

    // A window of two epochs ending at the latest; another preset's epoch length.
    const w = (await call(`/api/v1/keys/${pk}/timeline?epochs=2`, tok.alice)).json.data.signatures;
    expect([w.from_epoch, w.to_epoch, w.epochs]).toEqual(["12", "13", [{ epoch: "13", attestations: 1, blocks: 0 }]]);
    const minimal = (await call(`/api/v1/keys/${pk}/timeline?slots_per_epoch=8&to_epoch=44`, tok.alice)).json.data;
    // slot 357 is epoch 44 with 8 slots per epoch
    expect(minimal.signatures.epochs.find((e: any) => e.epoch === "44")).toEqual({
      epoch: "44",
      attestations: 0,
      blocks: 1,
    });

    // bob's fleet does not hold the key: no history, no alerts, no signing records.
    const bob = (await call(`/api/v1/keys/${pk}/timeline`, tok.bob)).json.data;
    expect([bob.intervals, bob.alerts, bob.signatures.available, bob.signatures.epochs]).toEqual([[], [], false, []]);
    // An admin and the signer's owner see records of keys no fleet reports; bob does not.
    const other = hexOf(pubkey(8));
    await protection!.checkAndRecord(att(pubkey(8), 1, 2, 4));
    const admin = (await call(`/api/v1/keys/${other}/timeline`, tok.admin)).json.data;
    expect(admin.signatures.epochs).toEqual([{ epoch: "2", attestations: 1, blocks: 0 }]);
    expect((await call(`/api/v1/keys/${other}/timeline`, tok.alice)).json.data.signatures.available).toBe(true);
    expect((await call(`/api/v1/keys/${other}/timeline`, tok.bob)).json.data.signatures.available).toBe(false);
  });

  it("keys without records, non-Ethereum keys and the top of the u64 range", async () => {
    const tok = await start();
    const quiet = hexOf(pubkey(1));
    const h = hkey(3);
    expect((await post(tok.agent, withEth("a", [ethKey(quiet), harmonyKey(h)]))).status).toBe(202);
    const unknown = (await call(`/api/v1/keys/${quiet}/timeline`, tok.alice)).json.data.signatures;
    expect([unknown.available, unknown.reason]).toEqual([false, "The signer using this store does not know this key."]);
    await protection!.registerValidators([pubkey(1)]);
    const none = (await call(`/api/v1/keys/${quiet}/timeline`, tok.alice)).json.data.signatures;
    expect([none.available, none.reason]).toEqual([false, "The signer has recorded no signature for this key yet."]);
    const harmony = (await call(`/api/v1/keys/${h}/timeline`, tok.alice)).json.data;
    expect(harmony.intervals).toHaveLength(1);
    // A Harmony BLS key is 48 bytes too: the chain the fleet reports it on decides.
    expect([harmony.signatures.available, harmony.signatures.reason]).toEqual([
      false,
      "Signatures per epoch are recorded for Ethereum keys only.",
    ]);

    // Epoch arithmetic at 2^64-1 stays exact (bigint; slot ranges clamp instead of overflowing).
    const top = (await call(`/api/v1/keys/${quiet}/timeline?to_epoch=18446744073709551615&epochs=3`, tok.alice)).json
      .data.signatures;
    expect([top.available, top.from_epoch, top.to_epoch, top.epochs]).toEqual([
      true,
      "18446744073709551613",
      "18446744073709551615",
      [],
    ]);
  });

  it("refuses bad input with 400, no token with 401 and an agent token with 403", async () => {
    const tok = await start();
    const pk = hexOf(pubkey(1));
    for (const q of [
      "",
      "?epochs=0",
      "?epochs=-1",
      "?epochs=abc",
      "?to_epoch=18446744073709551616",
      "?to_epoch=1e3",
      "?to_epoch=-1",
      "?slots_per_epoch=0",
      "?from=yesterday",
      "?from=2000&to=1000",
    ]) {
      const path = q === "" ? "/api/v1/keys/0x12/timeline" : `/api/v1/keys/${pk}/timeline${q}`;
      const r = await call(path, tok.alice);
      expect(r.status, path).toBe(400);
      expect(r.json.code, path).toBe("ERR_BAD_REQUEST");
    }
    expect((await call(`/api/v1/keys/${pk}/timeline`, null)).status).toBe(401);
    expect((await call(`/api/v1/keys/${pk}/timeline`, tok.agent)).status).toBe(403);
    // epochs above the limit are clamped, not refused
    expect((await call(`/api/v1/keys/${pk}/timeline?epochs=99999`, tok.alice)).status).toBe(200);
  });
});
