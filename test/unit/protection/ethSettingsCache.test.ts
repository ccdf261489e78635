import pg from "pg";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ProtectionErrorCode as C } from "../../../src/chains/ethereum/protectionErrors.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { importInterchange } from "../../../src/protection/ethereum/interchangeImport.js";
import { createProtectionMetrics } from "../../../src/protection/metrics.js";
import { openStore } from "../../../src/store/openStore.js";
import type { Store } from "../../../src/store/types.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, GVR0, pubkey } from "../../utils/eth.js";
import { interchange, KEY_HEX } from "../../utils/interchange.js";
import { ENGINES, HAS_PG, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";

/**
 * Issue 20: a signer caches each key's settings (enabled, low watermarks, import_max_source) and reads
 * them again only when the database's change token moved (PostgreSQL: eth_state_token, migration 0015;
 * SQLite: the data version). Every way another process (or an operator's SQL) changes them must reach
 * this signer's next decision. Each case first warms the cache with two decisions for key 1.
 */
describe.each(ENGINES)("cached key settings changed elsewhere, on %s", (engine) => {
  let ts: TestStore;
  let other: Store | null = null;
  let a: EthereumProtection;
  let b: EthereumProtection;
  const k = pubkey(1);

  afterEach(async () => {
    await a?.close();
    await b?.close();
    await other?.close();
    other = null;
    await ts?.dispose();
  });

  /** Signer A (the one with the cache) and signer B, on its own store connection as a second process. */
  async function twoSigners(): Promise<void> {
    ts = await openTestStore(engine);
    other = await openStore(ts.url);
    a = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: ts.store, logger: nullLogger });
    b = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: other, logger: nullLogger });
    expect(await a.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
    expect(await a.checkAndRecord(att(k, 2, 3, 1))).toBe("new");
  }

  it("caches: a key read once is not read again until another writer changes the database (counted as misses)", async () => {
    ts = await openTestStore(engine);
    other = await openStore(ts.url);
    const registry = new Registry();
    const metrics = createProtectionMetrics(registry);
    a = await EthereumProtection.open(
      { genesisValidatorsRoot: GVR0 },
      { store: ts.store, logger: nullLogger, metrics },
    );
    b = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: other, logger: nullLogger });
    const misses = async (): Promise<number> =>
      (await metrics.cacheMisses.get()).values.find((v) => v.labels.chain === "ethereum")?.value ?? 0;
    expect(await a.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
    // the first vote set the key's low watermarks (a change of its settings): the next one reads them again
    expect(await a.checkAndRecord(att(k, 2, 3, 1))).toBe("new");
    const warm = await misses();
    expect(warm).toBeGreaterThanOrEqual(1);
    for (let t = 4; t < 8; t++) expect(await a.checkAndRecord(att(k, t - 1, t, 1))).toBe("new");
    expect(await misses()).toBe(warm);
    await b.setEnabled([pubkey(2)], false); // another key, but a change: every cached key is read again once
    expect(await a.checkAndRecord(att(k, 8, 9, 1))).toBe("new");
    expect(await misses()).toBe(warm + 1);
    expect(await a.checkAndRecord(att(k, 9, 10, 1))).toBe("new");
    expect(await misses()).toBe(warm + 1);
  });

  it("a key disabled by another process is refused at once", async () => {
    await twoSigners();
    await b.setEnabled([k], false);
    await expect(a.checkAndRecord(att(k, 3, 4, 1))).rejects.toMatchObject({ code: C.KeyDisabled });
    await b.setEnabled([k], true);
    expect(await a.checkAndRecord(att(k, 3, 4, 1))).toBe("new");
  });

  it("low watermarks raised by an import through another process refuse what they forbid", async () => {
    await twoSigners();
    // a minimal-strategy import for key 1 with a vote at (10, 20): nothing at or below target 20 but a
    // repeat, nothing with a source below 10
    const file = interchange([
      {
        pubkey: KEY_HEX(1),
        signed_blocks: [],
        signed_attestations: [{ source_epoch: "10", target_epoch: "20" }],
      },
    ]);
    await importInterchange(other!, [file], GVR0);
    await expect(a.checkAndRecord(att(k, 3, 4, 1))).rejects.toMatchObject({
      code: C.AttestationSourceBelowLowWatermark,
    });
    await expect(a.checkAndRecord(att(k, 10, 15, 1))).rejects.toMatchObject({
      code: C.AttestationTargetBelowLowWatermark,
    });
    expect(await a.checkAndRecord(att(k, 20, 30, 1))).toBe("new");
  });

  it("settings changed by hand in SQL (an operator's UPDATE) are seen too", async () => {
    await twoSigners();
    await other!.tx(async (tx) => {
      await tx.run("UPDATE eth_validators SET enabled = FALSE");
    });
    await expect(a.checkAndRecord(att(k, 3, 4, 1))).rejects.toMatchObject({ code: C.KeyDisabled });
    await other!.tx(async (tx) => {
      await tx.run("UPDATE eth_validators SET enabled = TRUE");
      await tx.run("UPDATE eth_attestation_state SET low_target = $1", [tx.u64(50n)]);
    });
    await expect(a.checkAndRecord(att(k, 3, 40, 1))).rejects.toMatchObject({
      code: C.AttestationTargetBelowLowWatermark,
    });
  });
});

describe.runIf(HAS_PG)("the change token itself (PostgreSQL)", () => {
  let ts: TestStore;
  let a: EthereumProtection;
  const k = pubkey(1);
  afterEach(async () => {
    await a?.close();
    await ts?.dispose();
  });

  it("with the token row deleted by hand nothing is cached, and the next settings write restores it", async () => {
    ts = await openTestStore("postgres");
    a = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: ts.store, logger: nullLogger });
    expect(await a.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
    expect(await a.checkAndRecord(att(k, 2, 3, 1))).toBe("new");
    const c = new pg.Client({ connectionString: ts.url });
    await c.connect();
    try {
      await c.query("DELETE FROM eth_state_token");
      await c.query("UPDATE eth_validators SET enabled = FALSE");
      expect((await c.query("SELECT count(*)::int AS n FROM eth_state_token")).rows[0].n).toBe(1);
      await expect(a.checkAndRecord(att(k, 3, 4, 1))).rejects.toMatchObject({ code: C.KeyDisabled });
      await c.query("DELETE FROM eth_state_token");
      await c.query("UPDATE eth_validators SET enabled = TRUE");
      await c.query("DELETE FROM eth_state_token");
      // no token: every decision reads the settings (a cache would keep the key enabled here)
      expect(await a.checkAndRecord(att(k, 3, 4, 1))).toBe("new");
      await c.query("ALTER TABLE eth_validators DISABLE TRIGGER eth_validators_token");
      await c.query("UPDATE eth_validators SET enabled = FALSE");
      await expect(a.checkAndRecord(att(k, 4, 5, 1))).rejects.toMatchObject({ code: C.KeyDisabled });
    } finally {
      await c.end();
    }
  });
});

markPostgresSkipped("cached key settings changed elsewhere");
