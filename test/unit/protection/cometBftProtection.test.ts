import { afterEach, describe, expect, it } from "vitest";
import { CometSignErrorCode as C } from "../../../src/chains/cometbft/errors.js";
import { Step } from "../../../src/chains/cometbft/types.js";
import { CometBftProtection, CometImportErrorCode } from "../../../src/protection/cometbft/cometBftProtection.js";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { openStore } from "../../../src/store/openStore.js";
import type { Store } from "../../../src/store/types.js";
import { ed25519Verify } from "../../../src/util/curve25519.js";
import { nullLogger } from "../../../src/util/logger.js";
import { CHAIN_ID, T0, testKey, voteRequest } from "../../utils/comet.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "ok",
    (e: { code?: string }) => String(e.code),
  );

describe.each(ENGINES)("CometBftProtection on %s", (engine) => {
  let ts: TestStore;
  const extra: { p: CometBftProtection; s: Store }[] = [];
  let p: CometBftProtection;
  const key = testKey("validator-1");

  const open = async (): Promise<void> => {
    ts = await openTestStore(engine);
    p = new CometBftProtection({}, { store: ts.store, logger: nullLogger });
    await p.registerKey(CHAIN_ID, key);
  };
  afterEach(async () => {
    for (const x of extra.splice(0)) {
      await x.p.close();
      await x.s.close();
    }
    await p?.close();
    await ts?.dispose();
  });

  it("signs a new position, repeats identical bytes, refuses conflicts and regressions", async () => {
    await open();
    const first = await p.sign(voteRequest(key, "prevote", 10, 1, "B1"));
    expect(first.repeat).toBe(false);
    expect(ed25519Verify(key.publicKey, voteRequest(key, "prevote", 10, 1, "B1").signBytes, first.signature)).toBe(
      true,
    );
    const again = await p.sign(voteRequest(key, "prevote", 10, 1, "B1"));
    expect(again).toEqual({ signature: first.signature, timestamp: null, repeat: true });
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 10, 1, "B2")))).toBe(C.ConflictingData);
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 10, 1, "nil")))).toBe(C.ConflictingData);
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 10, 0, "B1")))).toBe(C.RoundRegression);
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 9, 5, "B1")))).toBe(C.HeightRegression);
    expect((await p.sign(voteRequest(key, "precommit", 10, 1, "B1"))).repeat).toBe(false);
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 10, 1, "B1")))).toBe(C.StepRegression);
  });

  it("timestamp-only difference: the stored signature and the stored timestamp", async () => {
    await open();
    const first = await p.sign(voteRequest(key, "precommit", 5, 0, "B1"));
    const later = { seconds: T0.seconds + 1n, nanos: 42 };
    const again = await p.sign(voteRequest(key, "precommit", 5, 0, "B1", later));
    expect(again).toEqual({ signature: first.signature, timestamp: T0, repeat: true });
  });

  it("100 parallel conflicting votes at one height/round/step: exactly one is signed", async () => {
    await open();
    const reqs = Array.from({ length: 100 }, (_, i) => voteRequest(key, "prevote", 20, 0, `B${i}`));
    const res = await Promise.allSettled(reqs.map((r) => p.sign(r)));
    const ok = res.filter((r) => r.status === "fulfilled");
    expect(ok).toHaveLength(1);
    const codes = res.flatMap((r) => (r.status === "rejected" ? [(r.reason as { code: string }).code] : []));
    expect(new Set(codes)).toEqual(new Set([C.ConflictingData]));
  });

  it("50 parallel identical requests (two sentries) all get the same signature", async () => {
    await open();
    const res = await Promise.all(Array.from({ length: 50 }, () => p.sign(voteRequest(key, "precommit", 21, 0, "B1"))));
    expect(new Set(res.map((r) => Buffer.from(r.signature).toString("hex"))).size).toBe(1);
    expect(res.filter((r) => !r.repeat)).toHaveLength(1);
  });

  it("two protection instances on separate connections to one database: exactly one signature per position", async () => {
    await open();
    for (let i = 0; i < 2; i++) {
      const s = await openStore(ts.url);
      const q = new CometBftProtection({}, { store: s, logger: nullLogger });
      await q.registerKey(CHAIN_ID, key);
      extra.push({ p: q, s });
    }
    const all = [p, ...extra.map((x) => x.p)];
    for (let h = 30; h < 35; h++) {
      const res = await Promise.allSettled(
        all.flatMap((q, i) => [0, 1, 2].map((j) => q.sign(voteRequest(key, "prevote", h, 0, `B${i}-${j}`)))),
      );
      expect(res.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    }
  });

  it("the record is durable before the signature returns (reopen the store)", async () => {
    await open();
    await p.sign(voteRequest(key, "precommit", 40, 2, "B1"));
    await p.close();
    await ts.store.close();
    const s = await openStore(ts.url);
    const q = new CometBftProtection({}, { store: s, logger: nullLogger });
    extra.push({ p: q, s });
    await q.registerKey(CHAIN_ID, key);
    const st = await q.state(CHAIN_ID, key.publicKey);
    expect(st?.hrs).toEqual({ height: 40n, round: 2, step: Step.Precommit });
    expect(await codeOf(q.sign(voteRequest(key, "precommit", 40, 2, "B2")))).toBe(C.ConflictingData);
    // make afterEach's dispose work on a store that is already closed
    ts = { ...ts, store: s, dispose: async () => {} };
  });

  it("keys are independent per chain id and per key; an unknown key is refused", async () => {
    await open();
    const other = testKey("validator-2");
    await p.registerKey("other-chain", key);
    await p.registerKey(CHAIN_ID, other);
    await p.sign(voteRequest(key, "prevote", 50, 0, "B1"));
    await p.sign(voteRequest(key, "prevote", 50, 0, "B2", T0, "other-chain"));
    await p.sign(voteRequest(other, "prevote", 50, 0, "B3"));
    expect(await codeOf(p.sign(voteRequest(testKey("stranger"), "prevote", 1, 0, "B1")))).toBe(C.KeyUnknown);
  });

  it("import never lowers the stored state and refuses a signature that does not verify", async () => {
    await open();
    await p.sign(voteRequest(key, "prevote", 60, 0, "B1"));
    const lower = await p.importState(CHAIN_ID, key.publicKey, {
      hrs: { height: 59n, round: 3, step: Step.Precommit },
      signBytes: null,
      signature: null,
    });
    expect(lower.applied).toBe(false);
    expect(lower.stored.hrs.height).toBe(60n);
    const req = voteRequest(key, "precommit", 70, 0, "B1");
    const bad = { hrs: req.hrs, signBytes: req.signBytes, signature: new Uint8Array(64).fill(1) };
    expect(await codeOf(p.importState(CHAIN_ID, key.publicKey, bad))).toBe(CometImportErrorCode.SignatureInvalid);
    expect((await p.state(CHAIN_ID, key.publicKey))?.hrs.height).toBe(60n);
    const good = { ...bad, signature: key.sign(req.signBytes) };
    expect((await p.importState(CHAIN_ID, key.publicKey, good)).applied).toBe(true);
    // the imported signature answers the identical request; anything else at that position is refused
    expect((await p.sign(req)).signature).toEqual(good.signature);
    expect(await codeOf(p.sign(voteRequest(key, "precommit", 70, 0, "B2")))).toBe(C.ConflictingData);
    // imported without sign bytes: that position can never be signed again
    await p.importState(CHAIN_ID, key.publicKey, {
      hrs: { height: 80n, round: 0, step: 2 },
      signBytes: null,
      signature: null,
    });
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 80, 0, "B1")))).toBe(C.NoSignBytes);
    expect((await p.sign(voteRequest(key, "precommit", 80, 0, "B1"))).repeat).toBe(false);
  });

  it("fails closed when the store is gone", async () => {
    await open();
    await ts.store.close();
    expect(await codeOf(p.sign(voteRequest(key, "prevote", 90, 0, "B1")))).toBe(StoreErrorCode.Closed);
  });
});
