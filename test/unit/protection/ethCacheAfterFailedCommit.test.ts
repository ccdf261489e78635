import { afterEach, describe, expect, it } from "vitest";
import { ProtectionErrorCode as C } from "../../../src/chains/ethereum/protectionErrors.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { importInterchange } from "../../../src/protection/ethereum/interchangeImport.js";
import type { SqlTx, Store, TxOptions } from "../../../src/store/types.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, GVR0, pubkey } from "../../utils/eth.js";
import { interchange, KEY_HEX } from "../../utils/interchange.js";
import { openTestStore, type TestStore } from "../../utils/stores.js";

/** A store whose next write transaction fails at COMMIT (rolls back after its statements ran). */
function failingNextCommit(inner: Store): Store & { failNext(): void } {
  let fail = false;
  return {
    dialect: inner.dialect,
    url: inner.url,
    schemaVersion: inner.schemaVersion,
    failNext: () => {
      fail = true;
    },
    tx<T>(fn: (tx: SqlTx) => Promise<T>, opts?: TxOptions): Promise<T> {
      if (!fail || opts?.readOnly) return inner.tx(fn, opts);
      fail = false;
      return inner.tx(async (tx) => {
        await fn(tx);
        throw new Error("injected COMMIT failure");
      }, opts);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

/**
 * Found by the model-based suite (test/model/ethereum): the SQLite signing repository caches key
 * states while "nothing else wrote since our last commit". A batch whose COMMIT failed left its
 * uncommitted state in the cache, and the next write of the same connection (an import, a prune, a key
 * registration) made the change token look like that batch's own commit, so the stale state was trusted:
 * the imported watermarks were ignored.
 */
describe("SQLite state cache after a failed COMMIT", () => {
  let t: TestStore;
  afterEach(async () => t?.dispose());

  it("a write committed after a failed batch does not revive the failed batch's cached state", async () => {
    t = await openTestStore("sqlite");
    const store = failingNextCommit(t.store);
    const p = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store, logger: nullLogger });
    const k = pubkey(1);
    await p.registerValidators([k]);
    expect(await p.checkAndRecord(att(k, 5, 6, 1))).toBe("new");

    store.failNext();
    await expect(p.checkAndRecord(att(k, 7, 8, 1))).rejects.toThrow("injected COMMIT failure");

    const file = interchange([
      { pubkey: KEY_HEX(1), signed_blocks: [], signed_attestations: [{ source_epoch: "10", target_epoch: "20" }] },
    ]);
    await importInterchange(store, [file], GVR0);

    // (8,9) is below the imported source watermark 10
    await expect(p.checkAndRecord(att(k, 8, 9, 1))).rejects.toMatchObject({
      code: C.AttestationSourceBelowLowWatermark,
    });
    await p.close();
  });

  it("the imported record that surrounds the next vote is seen (a slashable surround was released)", async () => {
    t = await openTestStore("sqlite");
    const store = failingNextCommit(t.store);
    const p = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store, logger: nullLogger });
    const k = pubkey(1);
    await p.registerValidators([k]);
    expect(await p.checkAndRecord(att(k, 5, 6, 1))).toBe("new");

    store.failNext();
    await expect(p.checkAndRecord(att(k, 7, 8, 1))).rejects.toThrow("injected COMMIT failure");

    const file = interchange([
      { pubkey: KEY_HEX(1), signed_blocks: [], signed_attestations: [{ source_epoch: "7", target_epoch: "30" }] },
    ]);
    await importInterchange(store, [file], GVR0);

    // (7,30) surrounds (8,9)
    await expect(p.checkAndRecord(att(k, 8, 9, 1))).rejects.toMatchObject({ code: C.AttestationSurrounded });
    await p.close();
  });
});
