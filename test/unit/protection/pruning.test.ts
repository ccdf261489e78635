import { afterEach, describe, expect, it } from "vitest";
import { ProtectionErrorCode as C } from "../../../src/chains/ethereum/protectionErrors.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { pruneEthereum } from "../../../src/protection/ethereum/pruning.js";
import { ethereumStatus } from "../../../src/protection/ethereum/status.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, blk, GVR0, pubkey } from "../../utils/eth.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";

describe.each(ENGINES)("pruning on %s", (engine) => {
  let ts: TestStore;
  let p: EthereumProtection;
  afterEach(async () => {
    await p?.close();
    await ts?.dispose();
  });

  async function statusOf(): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    await ethereumStatus(ts.store, (l) => lines.push(l), { json: true });
    return lines.map((l) => JSON.parse(l));
  }

  it("keeps the last N epochs, raises the watermarks first, and keeps refusing below them", async () => {
    ts = await openTestStore(engine);
    p = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: ts.store, logger: nullLogger });
    const k = pubkey(1);
    await Promise.all(Array.from({ length: 300 }, (_, e) => p.checkAndRecord(att(k, e, e + 1, e))));
    await Promise.all(Array.from({ length: 40 }, (_, i) => p.checkAndRecord(blk(k, i * 10, 1))));
    const s = await pruneEthereum(ts.store, { epochsToKeep: 250n, slotsPerEpoch: 1n, chunk: 7n });
    expect(s).toEqual({ validators: 1, blocksDeleted: 15, attestationsDeleted: 50 });
    const [st] = await statusOf();
    expect(st).toMatchObject({
      attestations: 250,
      blocks: 25,
      low_target_epoch: "51",
      low_source_epoch: "50",
      low_slot: "150",
    });
    // below the new watermarks: refused although the rows are gone
    await expect(p.checkAndRecord(att(k, 20, 21, 99))).rejects.toMatchObject({
      code: C.AttestationSourceBelowLowWatermark,
    });
    await expect(p.checkAndRecord(att(k, 50, 50, 99))).rejects.toMatchObject({
      code: C.AttestationTargetBelowLowWatermark,
    });
    await expect(p.checkAndRecord(blk(k, 145, 1))).rejects.toMatchObject({ code: C.BlockBelowLowWatermark });
    // the kept history still decides
    await expect(p.checkAndRecord(att(k, 100, 101, 99))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
    expect(await p.checkAndRecord(att(k, 300, 301, 1))).toBe("new");
    // pruning again changes nothing
    expect(await pruneEthereum(ts.store, { epochsToKeep: 250n, slotsPerEpoch: 1n })).toMatchObject({
      attestationsDeleted: 1,
    });
  });

  it("runs online: signing goes on while a prune runs, and nothing conflicting gets through", async () => {
    ts = await openTestStore(engine);
    p = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: ts.store, logger: nullLogger });
    const keys = Array.from({ length: 20 }, (_, i) => pubkey(10 + i));
    for (const k of keys)
      await Promise.all(Array.from({ length: 60 }, (_, e) => p.checkAndRecord(att(k, e, e + 1, 1))));
    const pruning = pruneEthereum(ts.store, { epochsToKeep: 10n, chunk: 3n });
    const signing = Promise.allSettled(
      keys.flatMap((k) => [p.checkAndRecord(att(k, 60, 61, 2)), p.checkAndRecord(att(k, 60, 61, 3))]),
    );
    const [s, results] = await Promise.all([pruning, signing]);
    expect(s.attestationsDeleted).toBeGreaterThan(0);
    const allowed = results.filter((r) => r.status === "fulfilled").length;
    expect(allowed).toBe(keys.length);
  });
});

markPostgresSkipped("pruning on");
