import { afterEach, describe, expect, it } from "vitest";
import { ProtectionErrorCode as C } from "../../../src/chains/ethereum/protectionErrors.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { openStore } from "../../../src/store/openStore.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, blk, GVR0, outcomes, pubkey, root } from "../../utils/eth.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";

describe.each(ENGINES)("EthereumProtection on %s", (engine) => {
  let ts: TestStore;
  let p: EthereumProtection;
  const open = async (): Promise<void> => {
    ts = await openTestStore(engine);
    p = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: ts.store, logger: nullLogger });
  };
  afterEach(async () => {
    await p?.close();
    await ts?.dispose();
  });

  it("records, repeats and refuses in order", async () => {
    await open();
    const k = pubkey(1);
    expect(await p.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
    expect(await p.checkAndRecord(att(k, 1, 2, 1))).toBe("repeat");
    await expect(p.checkAndRecord(att(k, 1, 2, 2))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
    await expect(p.checkAndRecord(att(k, 0, 3, 3))).rejects.toMatchObject({ code: C.AttestationSurrounding });
    expect(await p.checkAndRecord(blk(k, 100, 1))).toBe("new");
    await expect(p.checkAndRecord(blk(k, 100, 2))).rejects.toMatchObject({ code: C.BlockDoubleProposal });
    await expect(p.checkAndRecord(blk(k, 99, 2))).rejects.toMatchObject({ code: C.BlockBelowLowWatermark });
  });

  it("100 parallel conflicting attestations for one key: exactly one is allowed", async () => {
    await open();
    const k = pubkey(2);
    const res = await outcomes(Array.from({ length: 100 }, (_, i) => p.checkAndRecord(att(k, 5, 6, i + 1))));
    expect(res.filter((r) => r === "new")).toHaveLength(1);
    expect(res.filter((r) => r === C.AttestationDoubleVote)).toHaveLength(99);
  });

  it("100 parallel surrounding / surrounded attestations: no two slashable ones are both allowed", async () => {
    await open();
    const k = pubkey(3);
    const reqs = Array.from({ length: 100 }, (_, i) => att(k, 50 - (i % 50), 60 + (i % 50) + (i >= 50 ? 1 : 0), i));
    const res = await outcomes(reqs.map((r) => p.checkAndRecord(r)));
    const allowed = reqs.filter((_, i) => res[i] === "new");
    for (const x of allowed) {
      for (const y of allowed) {
        if (x === y) continue;
        expect(x.target === y.target).toBe(false);
        expect(x.source < y.source && x.target > y.target).toBe(false);
      }
    }
    expect(allowed.length).toBeGreaterThanOrEqual(1);
  });

  it("parallel conflicting blocks across many keys: exactly one per key", async () => {
    await open();
    const keys = Array.from({ length: 50 }, (_, i) => pubkey(100 + i));
    const ps = keys.flatMap((k) => [1, 2, 3, 4].map((r) => p.checkAndRecord(blk(k, 7, r))));
    const res = await outcomes(ps);
    for (let i = 0; i < keys.length; i++) {
      const mine = res.slice(i * 4, i * 4 + 4);
      expect(mine.filter((r) => r === "new")).toHaveLength(1);
    }
  });

  it("a disabled key is refused until enabled again", async () => {
    await open();
    const k = pubkey(4);
    await p.checkAndRecord(att(k, 1, 2, 1));
    await p.setEnabled([k], false);
    await expect(p.checkAndRecord(att(k, 2, 3, 1))).rejects.toMatchObject({ code: C.KeyDisabled });
    await expect(p.checkAndRecord(blk(k, 1, 1))).rejects.toMatchObject({ code: C.KeyDisabled });
    await p.setEnabled([k], true);
    expect(await p.checkAndRecord(att(k, 2, 3, 1))).toBe("new");
  });

  it("u64 extremes keep their order", async () => {
    await open();
    const k = pubkey(5);
    const max = (1n << 64n) - 1n;
    expect(await p.checkAndRecord(blk(k, max - 1n, 1))).toBe("new");
    expect(await p.checkAndRecord(blk(k, max, 1))).toBe("new");
    await expect(p.checkAndRecord(blk(k, 1n << 63n, 1))).rejects.toMatchObject({ code: C.BlockBelowLowWatermark });
    expect(await p.checkAndRecord(att(k, 0, max - 1n, 1))).toBe("new");
    await expect(p.checkAndRecord(att(k, 1, max - 2n, 2))).rejects.toMatchObject({ code: C.AttestationSurrounded });
  });

  it("a request with a number outside u64 fails alone: the other requests of its batch are decided", async () => {
    await open();
    const good = pubkey(20);
    const bad = pubkey(21);
    await p.registerValidators([good, bad]);
    const max = (1n << 64n) - 1n;
    const invalid = [
      att(bad, 1, max + 1n, 1),
      att(bad, -1n, 5, 2),
      blk(bad, max + 1n, 3),
      blk(bad, -1n, 4),
      { ...blk(bad, 9, 5), signingRoot: new Uint8Array(31) },
    ];
    // 40 good requests with the bad ones spread among them: they all arrive before the first flush
    const reqs = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? att(good, i, i + 1, i) : blk(good, 100 + i, i)));
    const mixed = reqs.flatMap((r, i) => (i % 8 === 3 ? [r, invalid[(i - 3) / 8]!] : [r]));
    const res = await outcomes(mixed.map((r) => p.checkAndRecord(r)));
    expect(res.filter((r) => r === "new")).toHaveLength(40);
    expect(res.filter((r) => r === "ERR_BAD_REQUEST")).toHaveLength(invalid.length);
    // nothing of the bad ones was recorded; the key still signs what it may
    expect(await p.checkAndRecord(att(bad, 1, 2, 9))).toBe("new");
    expect(await p.checkAndRecord(blk(bad, 1, 9))).toBe("new");
  });

  it("a database bound to one genesis root refuses another, writing nothing", async () => {
    await open();
    await p.checkAndRecord(att(pubkey(6), 1, 2, 1));
    await expect(
      EthereumProtection.open({ genesisValidatorsRoot: root(9) }, { store: ts.store, logger: nullLogger }),
    ).rejects.toMatchObject({ code: C.GenesisMismatch });
  });

  it("two instances on one database (two connections) never both sign, whatever each has cached", async () => {
    await open();
    const store2 = await openStore(ts.url);
    const q = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: store2, logger: nullLogger });
    try {
      const k = pubkey(8);
      expect(await p.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
      await expect(q.checkAndRecord(att(k, 1, 2, 2))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
      expect(await q.checkAndRecord(att(k, 2, 3, 3))).toBe("new");
      await expect(p.checkAndRecord(att(k, 2, 3, 4))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
      await expect(p.checkAndRecord(att(k, 1, 4, 4))).rejects.toMatchObject({ code: C.AttestationSurrounding });
      expect(await p.checkAndRecord(blk(k, 5, 1))).toBe("new");
      await expect(q.checkAndRecord(blk(k, 5, 2))).rejects.toMatchObject({ code: C.BlockDoubleProposal });
      await q.setEnabled([k], false);
      await expect(p.checkAndRecord(att(k, 3, 4, 1))).rejects.toMatchObject({ code: C.KeyDisabled });
      const both = await outcomes([p.checkAndRecord(blk(k, 9, 1)), q.checkAndRecord(blk(k, 9, 2))]);
      expect(both).toEqual([C.KeyDisabled, C.KeyDisabled]);
      await p.setEnabled([k], true);
      const race = await outcomes([p.checkAndRecord(blk(k, 10, 1)), q.checkAndRecord(blk(k, 10, 2))]);
      expect(race.filter((r) => r === "new")).toHaveLength(1);
    } finally {
      await q.close();
      await store2.close();
    }
  });

  it("survives a reopen: records are durable", async () => {
    await open();
    const k = pubkey(7);
    await p.checkAndRecord(att(k, 10, 11, 1));
    await p.close();
    await ts.store.close();
    const store = await openStore(ts.url);
    try {
      const q = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store, logger: nullLogger });
      await expect(q.checkAndRecord(att(k, 10, 11, 2))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
      await q.close();
    } finally {
      await store.close();
    }
  });
});

markPostgresSkipped("EthereumProtection on");
