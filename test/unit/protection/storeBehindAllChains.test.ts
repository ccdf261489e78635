import { afterEach, describe, expect, it } from "vitest";
import { CometSignErrorCode } from "../../../src/chains/cometbft/errors.js";
import { SubstrateErrorCode } from "../../../src/chains/substrate/errors.js";
import { type GrandpaRecord, GrandpaStage, type SubstrateRecord } from "../../../src/chains/substrate/types.js";
import { CometBftProtection } from "../../../src/protection/cometbft/cometBftProtection.js";
import { SubstrateProtection } from "../../../src/protection/substrate/substrateProtection.js";
import { nullLogger } from "../../../src/util/logger.js";
import { CHAIN_ID, testKey, voteRequest } from "../../utils/comet.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";
import { fakeKey } from "../../utils/substrate.js";

/**
 * Issue 17 for every chain (the engine's ReleasedPositions): a store holding less for a key than this
 * process released stops that key; other keys go on. The lost tail is removed by hand, as an asynchronous
 * standby promoted without it would leave it.
 */
const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "ok",
    (e: { code?: string }) => String(e.code),
  );

describe.each(ENGINES)("a store behind what this process released, CometBFT on %s", (engine) => {
  let ts: TestStore;
  let p: CometBftProtection;
  afterEach(async () => {
    await p?.close();
    await ts?.dispose();
  });

  it("refuses ERR_COMETBFT_STORE_BEHIND for the key whose state went back, also later; the other key signs", async () => {
    ts = await openTestStore(engine);
    p = new CometBftProtection({}, { store: ts.store, logger: nullLogger });
    const key = testKey("behind-1");
    const other = testKey("behind-2");
    await p.registerKey(CHAIN_ID, key);
    await p.registerKey(CHAIN_ID, other);
    expect((await p.sign(voteRequest(key, "prevote", 10, 0, "B1"))).repeat).toBe(false);
    expect((await p.sign(voteRequest(key, "prevote", 11, 0, "B1"))).repeat).toBe(false);
    expect((await p.sign(voteRequest(other, "prevote", 11, 0, "B1"))).repeat).toBe(false);

    // the lost tail: height 11 of `key` is gone, the state is back at height 10
    await ts.store.tx(async (tx) => {
      await tx.run("UPDATE cometbft_sign_state SET height = $1 WHERE pubkey = $2", [
        tx.u64(10n),
        Buffer.from(key.publicKey),
      ]);
    });

    // the store alone would let a conflicting twin of the released height-11 vote through
    await expect(p.sign(voteRequest(key, "prevote", 11, 0, "B2"))).rejects.toMatchObject({
      code: CometSignErrorCode.StoreBehind,
      type: { previous: { height: 10n }, released: { height: 11n } },
    });
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 12, 0, "B1")))).toBe(CometSignErrorCode.StoreBehind);
    expect((await p.sign(voteRequest(other, "prevote", 12, 0, "B1"))).repeat).toBe(false);
  });
});

const h = (n: number): Uint8Array => new Uint8Array(32).fill(n & 0xff);
const prevote = (target: number, round: bigint): GrandpaRecord => ({
  kind: "grandpa",
  stage: GrandpaStage.Prevote,
  targetHash: h(target),
  targetNumber: BigInt(target),
  round,
  setId: 1n,
});
const seal = (slot: bigint, hash: number): SubstrateRecord => ({
  kind: "babe",
  slot,
  preHash: h(hash),
  authorityIndex: 3,
});

describe.each(ENGINES)("a store behind what this process released, Substrate on %s", (engine) => {
  let ts: TestStore;
  let p: SubstrateProtection;
  afterEach(async () => {
    await p?.close();
    await ts?.dispose();
  });

  it("refuses ERR_SUBSTRATE_STORE_BEHIND for GRANDPA and BABE keys whose history went back; other keys go on", async () => {
    ts = await openTestStore(engine);
    p = new SubstrateProtection({}, { store: ts.store, logger: nullLogger });
    const sign = (keyType: string, n: number, ...records: SubstrateRecord[]) =>
      p.checkAndRecord({ keyType, publicKey: fakeKey(n), records });
    expect(await sign("gran", 1, prevote(5, 9n))).toBe("new");
    expect(await sign("gran", 1, prevote(6, 10n))).toBe("new");
    expect(await sign("babe", 2, seal(100n, 1))).toBe("new");
    expect(await sign("gran", 3, prevote(6, 10n))).toBe("new");

    // the lost tail: round 10 of key 1 and slot 100 of key 2 are gone, with the last values they set
    await ts.store.tx(async (tx) => {
      await tx.run(
        "DELETE FROM substrate_grandpa_votes WHERE round = $1 AND key_id = (SELECT id FROM substrate_keys WHERE public_key = $2)",
        [tx.u64(10n), Buffer.from(fakeKey(1))],
      );
      await tx.run("UPDATE substrate_keys SET last_round = $1 WHERE public_key = $2", [
        tx.u64(9n),
        Buffer.from(fakeKey(1)),
      ]);
      await tx.run("DELETE FROM substrate_babe_blocks WHERE slot = $1", [tx.u64(100n)]);
      await tx.run("UPDATE substrate_keys SET last_slot = NULL WHERE public_key = $1", [Buffer.from(fakeKey(2))]);
    });

    await expect(sign("gran", 1, prevote(7, 10n))).rejects.toMatchObject({
      code: SubstrateErrorCode.StoreBehind,
      type: { previous: { track: "set/round", released: "1/10", stored: "1/9" } },
    });
    await expect(sign("babe", 2, seal(100n, 2))).rejects.toMatchObject({
      code: SubstrateErrorCode.StoreBehind,
      type: { previous: { track: "slot", released: "100", stored: null } },
    });
    // once behind, always behind in this process
    expect(await codeOf(sign("gran", 1, prevote(8, 11n)))).toBe(SubstrateErrorCode.StoreBehind);
    expect(await sign("gran", 3, prevote(7, 11n))).toBe("new");
  });

  it("a repeated dispute statement whose session the store did not take does not make the store look behind", async () => {
    ts = await openTestStore(engine);
    p = new SubstrateProtection({}, { store: ts.store, logger: nullLogger });
    const sign = (...records: SubstrateRecord[]) =>
      p.checkAndRecord({ keyType: "para", publicKey: fakeKey(4), records });
    const valid = (session: bigint | null): SubstrateRecord => ({
      kind: "para",
      candidateHash: h(9),
      statement: "valid",
      session,
    });
    expect(await sign(valid(null))).toBe("new");
    // the same statement on the same candidate is a repeat: nothing is written, the session stays unknown
    expect(await sign(valid(2n))).toBe("repeat");
    // (found by the model test: the repeat's session 2 was counted as released, the store held none)
    expect(await sign(seal(7n, 1))).toBe("new");
    expect(await sign(valid(3n))).toBe("repeat");
  });
});

markPostgresSkipped("store behind what this process released (CometBFT, Substrate)");
