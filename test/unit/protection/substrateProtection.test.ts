import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { SubstrateErrorCode as C } from "../../../src/chains/substrate/errors.js";
import { type GrandpaRecord, GrandpaStage, type SubstrateRecord } from "../../../src/chains/substrate/types.js";
import {
  exportSubstrateInterchange,
  importSubstrateInterchange,
} from "../../../src/protection/substrate/interchange.js";
import { pruneSubstrate } from "../../../src/protection/substrate/pruning.js";
import { substrateStatus } from "../../../src/protection/substrate/status.js";
import { SubstrateProtection } from "../../../src/protection/substrate/substrateProtection.js";
import { openStore } from "../../../src/store/openStore.js";
import { nullLogger } from "../../../src/util/logger.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";
import { fakeKey, outcomes } from "../../utils/substrate.js";

const h = (n: number): Uint8Array => new Uint8Array(32).fill(n & 0xff);
const prevote = (target: number, round: bigint, setId: bigint): GrandpaRecord => ({
  kind: "grandpa",
  stage: GrandpaStage.Prevote,
  targetHash: h(target),
  targetNumber: BigInt(target),
  round,
  setId,
});
const seal = (slot: bigint, hash: number): SubstrateRecord => ({
  kind: "babe",
  slot,
  preHash: h(hash),
  authorityIndex: 3,
});
const para = (statement: "seconded" | "valid" | "invalid", candidate: number, session = 5n): SubstrateRecord => ({
  kind: "para",
  candidateHash: h(candidate),
  statement,
  session,
});

describe.each(ENGINES)("SubstrateProtection on %s", (engine) => {
  let ts: TestStore;
  let p: SubstrateProtection;
  const open = async (): Promise<void> => {
    ts = await openTestStore(engine);
    p = new SubstrateProtection({}, { store: ts.store, logger: nullLogger });
  };
  afterEach(async () => {
    await p?.close();
    await ts?.dispose();
  });
  const gran = (n: number, ...records: SubstrateRecord[]) =>
    p.checkAndRecord({ keyType: "gran", publicKey: fakeKey(n), records });

  it("100 parallel conflicting prevotes for one key: exactly one is allowed, identical ones repeat", async () => {
    await open();
    const res = await outcomes(Array.from({ length: 100 }, (_, i) => gran(1, prevote(i % 50, 9n, 1n))));
    expect(res.filter((r) => r === "new")).toHaveLength(1);
    const winner = res.indexOf("new") % 50;
    expect(res.filter((r) => r === "repeat")).toHaveLength(1); // its twin (i + 50) in the same batch
    expect(res.filter((r) => r === C.GrandpaEquivocation)).toHaveLength(98);
    expect(await gran(1, prevote(winner, 9n, 1n))).toBe("repeat");
  });

  it("parallel conflicting seals and dispute votes across many keys: exactly one per key", async () => {
    await open();
    const ps = Array.from({ length: 30 }, (_, k) => [
      ...[1, 2, 3].map((x) =>
        p.checkAndRecord({ keyType: "babe", publicKey: fakeKey(100 + k), records: [seal(50n, x)] }),
      ),
      p.checkAndRecord({ keyType: "para", publicKey: fakeKey(200 + k), records: [para("valid", 1)] }),
      p.checkAndRecord({ keyType: "para", publicKey: fakeKey(200 + k), records: [para("invalid", 1)] }),
    ]);
    const res = await outcomes(ps.flat());
    for (let k = 0; k < 30; k++) {
      const mine = res.slice(k * 5, k * 5 + 5);
      expect(mine.slice(0, 3).filter((r) => r === "new")).toHaveLength(1);
      expect(mine.slice(3).filter((r) => r === "new")).toHaveLength(1);
      expect(mine.slice(3)).toContain(C.ParaDoubleVote);
    }
  });

  it("a refused request of a batch records none of its records", async () => {
    await open();
    await p.checkAndRecord({ keyType: "para", publicKey: fakeKey(3), records: [para("invalid", 2)] });
    // an approval of two candidates, one of which this key voted invalid on: refused whole
    await expect(
      p.checkAndRecord({ keyType: "para", publicKey: fakeKey(3), records: [para("valid", 1), para("valid", 2)] }),
    ).rejects.toMatchObject({ code: C.ParaDoubleVote });
    expect(await p.checkAndRecord({ keyType: "para", publicKey: fakeKey(3), records: [para("invalid", 1)] })).toBe(
      "new",
    );
  });

  it("a disabled key is refused until enabled again", async () => {
    await open();
    await p.setEnabled([{ keyType: "gran", publicKey: fakeKey(4) }], false);
    await expect(gran(4, prevote(1, 1n, 1n))).rejects.toMatchObject({ code: C.KeyDisabled });
    await p.setEnabled([{ keyType: "gran", publicKey: fakeKey(4) }], true);
    expect(await gran(4, prevote(1, 1n, 1n))).toBe("new");
  });

  it("records survive a reopen", async () => {
    await open();
    await gran(5, prevote(1, 2n, 3n));
    await p.close();
    await ts.store.close();
    const store = await openStore(ts.url);
    try {
      const q = new SubstrateProtection({}, { store, logger: nullLogger });
      await expect(
        q.checkAndRecord({ keyType: "gran", publicKey: fakeKey(5), records: [prevote(2, 2n, 3n)] }),
      ).rejects.toMatchObject({
        code: C.GrandpaEquivocation,
      });
      await q.close();
    } finally {
      await store.close();
    }
  });

  it("interchange: export, import into a fresh store, conflicts refused there; import never lowers state", async () => {
    await open();
    await gran(6, prevote(1, 10n, 4n));
    await p.checkAndRecord({ keyType: "babe", publicKey: fakeKey(106), records: [seal(77n, 1)] });
    await p.checkAndRecord({ keyType: "para", publicKey: fakeKey(206), records: [para("seconded", 9)] });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    const summary = await exportSubstrateInterchange(ts.store, out);
    expect(summary).toEqual({ keys: 3, records: 3 });
    const text = Buffer.concat(chunks).toString("utf8");

    const other = await openTestStore(engine);
    try {
      expect(await importSubstrateInterchange(other.store, text)).toEqual({ keys: 3, records: 3 });
      const q = new SubstrateProtection({}, { store: other.store, logger: nullLogger });
      await expect(
        q.checkAndRecord({ keyType: "gran", publicKey: fakeKey(6), records: [prevote(2, 10n, 4n)] }),
      ).rejects.toMatchObject({
        code: C.GrandpaEquivocation,
      });
      await expect(
        q.checkAndRecord({ keyType: "babe", publicKey: fakeKey(106), records: [seal(77n, 2)] }),
      ).rejects.toMatchObject({
        code: C.BabeEquivocation,
      });
      await expect(
        q.checkAndRecord({ keyType: "para", publicKey: fakeKey(206), records: [para("invalid", 9)] }),
      ).rejects.toMatchObject({
        code: C.ParaDoubleVote,
      });
      expect(await q.checkAndRecord({ keyType: "gran", publicKey: fakeKey(6), records: [prevote(1, 10n, 4n)] })).toBe(
        "repeat",
      );
      await q.close();

      // a conflicting record in an import turns the place into "refuse everything", never "allow"
      const doc = JSON.parse(text) as {
        keys: { key_type: string; grandpa_votes: { target_hash: string }[]; low: { set_id: string | null } }[];
      };
      const g = doc.keys.find((k) => k.key_type === "gran")!;
      g.grandpa_votes[0]!.target_hash = `0x${"07".repeat(32)}`;
      g.low.set_id = "1"; // lower than nothing stored: must not lower anything either
      await importSubstrateInterchange(other.store, JSON.stringify(doc));
      const r = new SubstrateProtection({}, { store: other.store, logger: nullLogger });
      for (const t of [1, 7]) {
        await expect(
          r.checkAndRecord({ keyType: "gran", publicKey: fakeKey(6), records: [prevote(t, 10n, 4n)] }),
        ).rejects.toMatchObject({
          code: C.GrandpaEquivocation,
        });
      }
      await r.close();
    } finally {
      await other.dispose();
    }
  });

  it("a bad interchange is refused whole and changes nothing", async () => {
    await open();
    const good = { key_type: "gran", public_key: `0x${"11".repeat(32)}`, grandpa_votes: [] };
    const bad = {
      key_type: "gran",
      public_key: `0x${"12".repeat(32)}`,
      grandpa_votes: [{ set_id: "1", round: "x", stage: "prevote" }],
    };
    const doc = { metadata: { format: "slashguard.substrate.interchange", version: "1" }, keys: [good, bad] };
    await expect(importSubstrateInterchange(ts.store, JSON.stringify(doc))).rejects.toMatchObject({
      code: "ERR_SUBSTRATE_INTERCHANGE_MALFORMED",
    });
    await expect(importSubstrateInterchange(ts.store, "{")).rejects.toMatchObject({
      code: "ERR_SUBSTRATE_INTERCHANGE_MALFORMED",
    });
    await expect(
      importSubstrateInterchange(ts.store, JSON.stringify({ ...doc, metadata: { format: "x", version: "1" } })),
    ).rejects.toMatchObject({ code: "ERR_SUBSTRATE_INTERCHANGE_VERSION" });
    const lines: string[] = [];
    expect(await substrateStatus(ts.store, (l) => lines.push(l), { json: true })).toBe(0);
  });

  it("pruning keeps the last N sessions and refuses below the raised watermarks", async () => {
    await open();
    for (let set = 1n; set <= 10n; set++) await gran(7, prevote(1, 1n, set));
    for (let slot = 0n; slot < 50n; slot++)
      await p.checkAndRecord({ keyType: "babe", publicKey: fakeKey(107), records: [seal(slot, 1)] });
    const s = await pruneSubstrate(ts.store, { sessionsToKeep: 3n, slotsPerSession: 10n });
    expect(s.deleted).toBe(7 + 20);
    await expect(gran(7, prevote(1, 1n, 7n))).rejects.toMatchObject({ code: C.BelowWatermark });
    expect(await gran(7, prevote(1, 1n, 8n))).toBe("repeat");
    await expect(
      p.checkAndRecord({ keyType: "babe", publicKey: fakeKey(107), records: [seal(19n, 2)] }),
    ).rejects.toMatchObject({
      code: C.BelowWatermark,
    });
    await expect(
      p.checkAndRecord({ keyType: "babe", publicKey: fakeKey(107), records: [seal(20n, 2)] }),
    ).rejects.toMatchObject({
      code: C.BabeEquivocation,
    });
    const lines: string[] = [];
    await substrateStatus(ts.store, (l) => lines.push(l), { json: true });
    const gran7 = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((o) => o.key_type === "gran")!;
    expect(gran7).toMatchObject({ last_set_id: "10", last_round: "1", low_set_id: "8", grandpa_records: 3 });
  });
});
