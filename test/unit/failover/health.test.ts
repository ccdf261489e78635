import { describe, expect, it } from "vitest";
import { HealthChecker } from "../../../src/failover/health.js";
import type { EvmRpc } from "../../../src/failover/peers/rpcClient.js";
import { FakeChain, ManualClock, VALIDATOR } from "../../utils/failover/fakes.js";

function setup(evm: EvmRpc | null = null) {
  const chain = new FakeChain();
  const clock = new ManualClock();
  const h = new HealthChecker(
    { validatorAddress: VALIDATOR, minPeers: 3, stallMs: 1000, signingWindow: 3, maxCommitsPerCheck: 20 },
    { chain, evm, clock },
  );
  const failed = async (signing: boolean): Promise<string[]> =>
    (await h.check(signing)).checks.filter((c) => !c.ok).map((c) => c.name);
  return { chain, clock, h, failed };
}

describe("HealthChecker", () => {
  it("healthy node: synced, peers, height moving, signing", async () => {
    const { chain, clock, failed } = setup();
    for (let i = 0; i < 5; i++) {
      chain.signed.add(chain.latest - 1n);
      expect(await failed(true)).toEqual([]);
      chain.latest++;
      clock.t += 500;
    }
  });

  it("flags a stuck height, catching up, too few peers and an RPC that does not answer", async () => {
    const { chain, clock, failed } = setup();
    expect(await failed(false)).toEqual([]);
    clock.t += 1001;
    expect(await failed(false)).toEqual(["height"]);
    chain.latest++;
    chain.catchingUp = true;
    chain.peers = 2;
    expect(await failed(false)).toEqual(["catching_up", "peers"]);
    chain.failStatus = true;
    expect(await failed(false)).toContain("status");
  });

  it("an active node that stops appearing in commits is unhealthy after the signing window", async () => {
    const { chain, failed, h } = setup();
    for (let i = 0; i < 4; i++) {
      chain.latest++;
      chain.signed.add(chain.latest - 1n);
      expect(await failed(true)).toEqual([]);
    }
    expect(h.lastSignedHeight).toBe(chain.latest - 1n);
    const results: string[][] = [];
    for (let i = 0; i < 4; i++) {
      chain.latest++; // no signature any more
      results.push(await failed(true));
    }
    expect(results.at(-1)).toEqual(["signing"]);
    // a passive node is not asked to sign
    expect(await failed(false)).toEqual([]);
  });

  it("a new active gets the window to sign before the check counts", async () => {
    const { chain, failed, h } = setup();
    expect(await failed(false)).toEqual([]); // passive: history scanned, nothing signed
    h.resetSigning();
    const out: string[][] = [];
    for (let i = 0; i < 4; i++) {
      chain.latest++;
      out.push(await failed(true));
    }
    expect(out).toEqual([[], [], ["signing"], ["signing"]]);
  });

  it("follows the EVM block number too", async () => {
    let n = 5n;
    const { clock, failed, chain } = setup({ blockNumber: async () => n });
    expect(await failed(false)).toEqual([]);
    clock.t += 2000;
    chain.latest++;
    expect(await failed(false)).toEqual(["evm"]);
    n++;
    expect(await failed(false)).toEqual([]);
  });
});
