import { afterEach, describe, expect, it } from "vitest";
import { SubstrateErrorCode as C } from "../../../src/chains/substrate/errors.js";
import type { SubstrateRecord } from "../../../src/chains/substrate/types.js";
import { pruneSubstrate } from "../../../src/protection/substrate/pruning.js";
import { SubstrateProtection } from "../../../src/protection/substrate/substrateProtection.js";
import { nullLogger } from "../../../src/util/logger.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const para = (statement: "valid" | "invalid", candidate: number, session: bigint | null): SubstrateRecord => ({
  kind: "para",
  candidateHash: new Uint8Array(32).fill(candidate),
  statement,
  session,
});

/**
 * Found by the model-based suite (test/model/substrate): a dispute statement without a session (an
 * unreadable message the node describes without a session index) skipped the session watermark. After
 * pruning deleted a key's vote on a candidate, the other side of that candidate was allowed: a dispute
 * double vote that the deleted record forbade. A statement of unknown session is refused once the key
 * has a session watermark.
 */
describe.each(ENGINES)("Substrate dispute statement without a session after pruning (%s)", (engine) => {
  let t: TestStore;
  afterEach(async () => t?.dispose());

  it("the other side of a pruned vote stays refused", async () => {
    t = await openTestStore(engine);
    const p = new SubstrateProtection({}, { store: t.store, logger: nullLogger });
    const sign = (r: SubstrateRecord) =>
      p.checkAndRecord({ keyType: "para", publicKey: new Uint8Array(32).fill(7), records: [r] });
    expect(await sign(para("valid", 1, 0n))).toBe("new");
    expect(await sign(para("valid", 2, 5n))).toBe("new");
    await pruneSubstrate(t.store, { sessionsToKeep: 1n, slotsPerSession: 1n });

    await expect(sign(para("invalid", 1, null))).rejects.toMatchObject({ code: C.BelowWatermark });
    // a statement of a known session at or above the watermark is decided as before
    expect(await sign(para("valid", 3, 5n))).toBe("new");
    await p.close();
  });
});
