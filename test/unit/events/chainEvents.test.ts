import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { CometSignErrorCode } from "../../../src/chains/cometbft/errors.js";
import { SubstrateErrorCode } from "../../../src/chains/substrate/errors.js";
import { GrandpaStage } from "../../../src/chains/substrate/types.js";
import type { SignEventPayload } from "../../../src/events/eventFormat.js";
import { createEventMetrics } from "../../../src/events/metrics.js";
import { expandRows } from "../../../src/events/outboxFormat.js";
import { OutboxSink } from "../../../src/events/outboxSink.js";
import { CometBftProtection } from "../../../src/protection/cometbft/cometBftProtection.js";
import type { DecisionEventSink } from "../../../src/protection/decisionEvents.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { SubstrateProtection } from "../../../src/protection/substrate/substrateProtection.js";
import { outboxRepository } from "../../../src/store/events/outboxRepository.js";
import { toHex } from "../../../src/util/hex.js";
import { nullLogger } from "../../../src/util/logger.js";
import { CHAIN_ID, testKey, voteRequest } from "../../utils/comet.js";
import { att, GVR0, pubkey } from "../../utils/eth.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";
import { fakeKey } from "../../utils/substrate.js";

const sinkOf = (): OutboxSink =>
  new OutboxSink(
    { subjectPrefix: "sg", instance: "i1" },
    { logger: nullLogger, metrics: createEventMetrics(new Registry()) },
  );

/** docs/events.schema.json: every event written must validate (formats are not checked, only shapes). */
const validate = new Ajv({ strict: false, validateFormats: false }).compile(
  JSON.parse(readFileSync(new URL("../../../docs/events.schema.json", import.meta.url), "utf8")) as object,
);

describe.each(ENGINES)("decision events of every chain on %s", (engine) => {
  let ts: TestStore;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await ts?.dispose();
  });
  const events = async (): Promise<{ subject: string; e: SignEventPayload }[]> =>
    expandRows(await ts.store.tx((tx) => outboxRepository.oldest(tx, 1000), { readOnly: true })).map((r) => {
      const e = JSON.parse(r.payload) as SignEventPayload;
      expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
      return { subject: r.subject, e };
    });

  it("CometBFT: signed, repeat and refused votes with chain id, height, round and step", async () => {
    ts = await openTestStore(engine);
    const p = new CometBftProtection({}, { store: ts.store, logger: nullLogger, events: sinkOf() });
    closers.push(() => p.close());
    const key = testKey("v1");
    await p.registerKey(CHAIN_ID, key);
    await p.sign(voteRequest(key, "prevote", 10, 1, "B1"));
    await p.sign(voteRequest(key, "prevote", 10, 1, "B1"));
    await expect(p.sign(voteRequest(key, "prevote", 10, 1, "B2"))).rejects.toMatchObject({
      code: CometSignErrorCode.ConflictingData,
    });
    const got = await events();
    expect(got.map((x) => x.subject)).toEqual(Array(3).fill(`sg.sign.cometbft.${toHex(key.publicKey)}`));
    expect(got.map((x) => [x.e.decision, x.e.repeat, x.e.code])).toEqual([
      ["signed", false, null],
      ["signed", true, null],
      ["refused", false, CometSignErrorCode.ConflictingData],
    ]);
    expect(got[0]!.e).toMatchObject({
      chain: "cometbft",
      scope: CHAIN_ID,
      request: { type: "vote", height: "10", round: 1, step: "prevote" },
    });
  });

  it("Substrate: GRANDPA prevotes signed and an equivocation refused, with key type", async () => {
    ts = await openTestStore(engine);
    const p = new SubstrateProtection({}, { store: ts.store, logger: nullLogger, events: sinkOf() });
    closers.push(() => p.close());
    const pv = (hash: number) => ({
      kind: "grandpa" as const,
      stage: GrandpaStage.Prevote,
      targetHash: new Uint8Array(32).fill(hash),
      targetNumber: 100n,
      round: 4n,
      setId: 1n,
    });
    await p.checkAndRecord({ keyType: "gran", publicKey: fakeKey(1), records: [pv(1)] });
    await expect(p.checkAndRecord({ keyType: "gran", publicKey: fakeKey(1), records: [pv(2)] })).rejects.toMatchObject({
      code: SubstrateErrorCode.GrandpaEquivocation,
    });
    const got = await events();
    expect(got.map((x) => [x.e.decision, x.e.code])).toEqual([
      ["signed", null],
      ["refused", SubstrateErrorCode.GrandpaEquivocation],
    ]);
    expect(got[0]!.e).toMatchObject({ chain: "substrate", scope: "gran", key: toHex(fakeKey(1)) });
    expect(got[0]!.e.request).toMatchObject({ type: "grandpa_prevote", records: [{ round: "4", setId: "1" }] });
  });

  it("a decision transaction that fails leaves neither its records nor its events", async () => {
    ts = await openTestStore(engine);
    const real = sinkOf();
    let fail = true;
    const sink: DecisionEventSink = {
      record: async (tx, ev) => {
        await real.record(tx, ev);
        if (fail) throw new Error("injected failure after the events were written");
      },
    };
    const p = await EthereumProtection.open(
      { genesisValidatorsRoot: GVR0 },
      { store: ts.store, logger: nullLogger, events: sink },
    );
    closers.push(() => p.close());
    const k = pubkey(1);
    await expect(p.checkAndRecord(att(k, 1, 2, 1))).rejects.toThrow();
    expect(await events()).toEqual([]);
    fail = false;
    // the failed attestation was not recorded either: a different root for the same target is signable
    expect(await p.checkAndRecord(att(k, 1, 2, 2))).toBe("new");
    expect((await events()).map((x) => x.e.decision)).toEqual(["signed"]);
  });
});
