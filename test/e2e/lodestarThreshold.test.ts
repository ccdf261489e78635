import { setTimeout as sleep } from "node:timers/promises";
import blst from "@chainsafe/blst";
import { afterAll, describe, expect, it } from "vitest";
import {
  beaconGet,
  devGenesis,
  interopSecretKeys,
  LODESTAR_AVAILABLE,
  type Proc,
  SECONDS_PER_SLOT,
  SLOTS_PER_EPOCH,
  startBeaconNode,
  startExternalSignerVc,
  waitFor,
} from "../utils/lodestar.js";
import { type Exchange, RecordingProxy, releasedProtected, slashablePairs } from "../utils/recordingProxy.js";
import type { SignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";
import { makeCluster, startNode } from "../utils/thresholdCluster.js";

/**
 * A real Lodestar 1.5.1 dev chain whose eight validators are 2-of-3 threshold keys on three
 * slashguard nodes. One chain run covers every scenario (CI time): two validator clients with
 * different graffiti, each on its own node, sign at once until the chain finalizes; every released
 * signature verifies against the group key and no slashable pair was released; node 3 killed: the
 * clients still get signatures; node 2 killed too: nothing more is signed.
 */
describe.skipIf(!LODESTAR_AVAILABLE)("Lodestar validator clients on a 2-of-3 slashguard threshold cluster", () => {
  const procs: (Proc | SignerProcess | RecordingProxy)[] = [];
  const t = tempDir("sg-lodestar-threshold-");
  afterAll(async () => {
    for (const p of procs.reverse()) {
      // a graceful stop gets 10 s (a CI run once hung here); then a signer node is killed
      const stopped = await Promise.race([p.stop().then(() => true), sleep(10_000).then(() => false)]);
      if (!stopped && "kill" in p) {
        console.warn("teardown: a signer node did not stop on SIGTERM within 10 s; killed", p.url);
        await p.kill();
      }
    }
    t.cleanup();
  }, 60_000);

  it("finalizes with group-key signatures from two racing clients, survives one node down, signs nothing with two down", async () => {
    const t0 = Date.now();
    // a dev beacon node left without blocks for an epoch after genesis calls itself syncing and hands
    // out no duties: the chain's parameters are computed first, so the signers start with it
    const dev = devGenesis(8);
    const cluster = await makeCluster(t.dir, 3, 2, interopSecretKeys(8));
    const net = [
      "--network",
      "custom",
      "--preset",
      "minimal",
      "--genesis-validators-root",
      dev.genesis_validators_root,
      "--genesis-fork-version",
      dev.GENESIS_FORK_VERSION,
      "--no-doppelganger", // every key signs from genesis here (the guard's own e2e: lodestarDoppelganger.test.ts)
    ];
    // beacon node and signers start together; genesis 45 s out leaves room for both on a busy machine
    const [bn, ...nodes] = await Promise.all([
      startBeaconNode(t.dir, 8, 45),
      ...[1, 2, 3].map((i) => startNode(cluster, i, net)),
    ]);
    procs.push(bn.proc, ...nodes);
    const genesis = await beaconGet<{ genesis_validators_root: string }>(bn.url, "/eth/v1/beacon/genesis");
    const spec = await beaconGet<Record<string, string>>(bn.url, "/eth/v1/config/spec");
    expect([genesis.genesis_validators_root, spec.GENESIS_FORK_VERSION]).toEqual([
      dev.genesis_validators_root,
      dev.GENESIS_FORK_VERSION,
    ]);
    console.log("nodes up", Date.now() - t0);
    const proxies = [await RecordingProxy.start(() => nodes[0]!.url), await RecordingProxy.start(() => nodes[1]!.url)];
    procs.push(...proxies);
    const vcs = [
      startExternalSignerVc(t.dir, bn.url, proxies[0]!.url, { name: "vc-a", graffiti: "vc-a" }),
      startExternalSignerVc(t.dir, bn.url, proxies[1]!.url, { name: "vc-b", graffiti: "vc-b" }),
    ];
    procs.push(...vcs);
    const diag = (): string =>
      `${vcs[0]!.log()}\n--- vc-b ---\n${vcs[1]!.log()}\n--- beacon node ---\n${bn.proc.log()}`;
    const all = (): Exchange[] => [...proxies[0]!.exchanges, ...proxies[1]!.exchanges];

    await waitFor(
      async () => {
        const f = await beaconGet<{ finalized: { epoch: string } }>(
          bn.url,
          "/eth/v1/beacon/states/head/finality_checkpoints",
        );
        return Number(f.finalized.epoch) >= 1;
      },
      14 * SLOTS_PER_EPOCH * SECONDS_PER_SLOT * 1000,
      diag,
    );
    console.log("finalized", Date.now() - t0, all().length);
    // both clients got signatures, and blocks were proposed through both nodes' races
    for (const p of proxies)
      expect(p.exchanges.some((e) => e.status === 200 && e.body.type === "ATTESTATION")).toBe(true);
    expect(all().some((e) => e.status === 200 && String(e.body.type).startsWith("BLOCK"))).toBe(true);

    // node 3 down: both clients keep getting signatures through nodes 1 and 2
    await nodes[2]!.kill();
    const killed3 = Date.now();
    await waitFor(
      async () =>
        proxies.every(
          (p) =>
            p.exchanges.filter((e) => e.arrivedAt > killed3 && e.status === 200 && e.body.type === "ATTESTATION")
              .length >= 8,
        ),
      6 * SLOTS_PER_EPOCH * SECONDS_PER_SLOT * 1000,
      diag,
    );

    console.log("node3 down ok", Date.now() - t0);
    // node 2 down too: node 1 cannot gather two partials, so nothing more is released
    await nodes[1]!.kill();
    const killed2 = Date.now();
    await waitFor(
      async () => proxies[0]!.exchanges.some((e) => e.arrivedAt > killed2 && e.status === 503),
      4 * SLOTS_PER_EPOCH * SECONDS_PER_SLOT * 1000,
      diag,
    );
    console.log("node2 down ok", Date.now() - t0);
    const after = all().filter((e) => e.arrivedAt > killed2);
    expect(after.filter((e) => e.status === 200)).toEqual([]);
    expect(after.some((e) => e.status === 503)).toBe(true);

    // every released signature is the group key's over the root the client asked for
    const released = all().filter((e) => e.status === 200);
    expect(released.length).toBeGreaterThan(100);
    for (const e of released) {
      const ok = blst.verify(
        Buffer.from(String(e.body.signingRoot).slice(2), "hex"),
        blst.PublicKey.fromHex(e.pubkey),
        blst.Signature.fromHex(e.signature!),
      );
      expect(ok, `${e.body.type} for ${e.pubkey}`).toBe(true);
    }
    // and no two of them, across both clients, form a slashable pair
    const protectedReleased = releasedProtected(all());
    expect(protectedReleased.filter((r) => r.kind === "block").length).toBeGreaterThan(0);
    expect(slashablePairs(protectedReleased)).toEqual([]);
  }, 400_000);
});
