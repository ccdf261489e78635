import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { ProtectionErrorCode as C } from "../../../src/chains/ethereum/protectionErrors.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { LockClass, lockKeysStatement } from "../../../src/store/locks.js";
import { openStore } from "../../../src/store/openStore.js";
import type { Store } from "../../../src/store/types.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, blk, GVR0, outcomes, pubkey } from "../../utils/eth.js";
import { HAS_PG, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";

/**
 * PostgreSQL decision batches send BEGIN, the key locks and the state read in one round trip. The read
 * must see every commit made before the locks were granted (a read in the lock's own statement, or one
 * sent before the locks, would use an older snapshot and sign a slashable twin).
 */
describe.runIf(HAS_PG)("PostgreSQL decision batch: locks, then the state read under them", () => {
  let ts: TestStore;
  let p: EthereumProtection;
  let other: pg.Client | null = null;
  afterEach(async () => {
    await other?.end().catch(() => {});
    other = null;
    await p?.close();
    await ts?.dispose();
  });

  const open = async (): Promise<void> => {
    ts = await openTestStore("postgres");
    p = await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: ts.store, logger: nullLogger });
    other = new pg.Client({ connectionString: ts.url });
    await other.connect();
  };

  const idOf = async (key: Uint8Array): Promise<number> => {
    const r = await other!.query("SELECT id FROM eth_validators WHERE pubkey = $1", [Buffer.from(key)]);
    return Number(r.rows[0].id);
  };

  /** Until a session waits for the advisory lock (cls, id): the decision batch is queued behind it. */
  const waitForLockWaiter = async (cls: LockClass, id: number): Promise<void> => {
    for (let i = 0; i < 2000; i++) {
      const r = await other!.query(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = $1 AND l.objid = $2 AND a.datname = current_database()`,
        [cls, id],
      );
      if (r.rows[0].n > 0) return;
      await new Promise((res) => setTimeout(res, 5));
    }
    throw new Error("the decision batch never waited for the key lock");
  };

  it("an attestation decided while another session holds its key lock sees that session's record", async () => {
    await open();
    const k = pubkey(1);
    expect(await p.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
    const id = await idOf(k);
    // another signer's transaction: the key lock, then a record (1, 10), not yet committed
    await other!.query("BEGIN");
    await other!.query("SELECT pg_advisory_xact_lock($1, $2)", [LockClass.EthAttestation, id]);
    await other!.query(
      "INSERT INTO eth_signed_attestations (validator_id, target_epoch, source_epoch, signing_root) VALUES ($1, 10, 1, NULL)",
      [id],
    );
    const decision = outcomes([p.checkAndRecord(att(k, 2, 9, 2))]);
    await waitForLockWaiter(LockClass.EthAttestation, id);
    await other!.query("COMMIT");
    // (2, 9) is surrounded by (1, 10): a stale snapshot would have seen target 2 as the highest and signed
    expect(await decision).toEqual([C.AttestationSurrounded]);
  });

  it("a block decided while another session holds its key lock sees that session's block", async () => {
    await open();
    const k = pubkey(2);
    expect(await p.checkAndRecord(blk(k, 5, 1))).toBe("new");
    const id = await idOf(k);
    await other!.query("BEGIN");
    await other!.query("SELECT pg_advisory_xact_lock($1, $2)", [LockClass.EthBlock, id]);
    await other!.query("INSERT INTO eth_signed_blocks (validator_id, slot, signing_root) VALUES ($1, 10, NULL)", [id]);
    const decision = outcomes([p.checkAndRecord(blk(k, 10, 2))]);
    await waitForLockWaiter(LockClass.EthBlock, id);
    await other!.query("COMMIT");
    expect(await decision).toEqual([C.BlockDoubleProposal]);
  });

  it("the batch hands off (the next one may start) only once its key locks are held", async () => {
    await open();
    const k = pubkey(6);
    expect(await p.checkAndRecord(att(k, 1, 2, 1))).toBe("new");
    const id = await idOf(k);
    await other!.query("BEGIN");
    await other!.query("SELECT pg_advisory_xact_lock($1, $2)", [LockClass.EthAttestation, id]);
    let begun = false;
    const tx = ts.store.tx((t) => t.all("SELECT 1 AS one"), {
      beginWith: lockKeysStatement("postgres", [{ cls: LockClass.EthAttestation, id }])!,
      onBegun: () => {
        begun = true;
      },
    });
    await waitForLockWaiter(LockClass.EthAttestation, id);
    await new Promise((r) => setTimeout(r, 50));
    expect(begun).toBe(false); // still waiting for the lock: the next batch must not start
    await other!.query("COMMIT");
    await tx;
    expect(begun).toBe(true);
  });

  it("overlapping batches keep arrival order: the next batch waits until the one ahead holds every lock", async () => {
    await open();
    const small = await EthereumProtection.open(
      { genesisValidatorsRoot: GVR0, maxBatch: 2 },
      { store: ts.store, logger: nullLogger },
    );
    try {
      const [a, b] = [pubkey(8), pubkey(9)];
      await small.registerValidators([a]);
      await small.registerValidators([b]);
      const [idA, idB] = [await idOf(a), await idOf(b)];
      expect(idA).toBeLessThan(idB); // locks are taken in id order: the first batch waits on A before B
      // another session holds A's lock: the first batch (A, then B at (0, 5)) waits for it
      await other!.query("BEGIN");
      await other!.query("SELECT pg_advisory_xact_lock($1, $2)", [LockClass.EthAttestation, idA]);
      const first = outcomes([small.checkAndRecord(att(a, 0, 1, 1)), small.checkAndRecord(att(b, 0, 5, 1))]);
      // arrives later: B at the same target with another root, the double vote of the first batch's
      const second = outcomes([small.checkAndRecord(att(b, 0, 5, 2))]);
      await waitForLockWaiter(LockClass.EthAttestation, idA);
      await new Promise((r) => setTimeout(r, 50));
      await other!.query("COMMIT");
      expect(await first).toEqual(["new", "new"]);
      // a second batch started before the first held its locks would have taken B first and signed its twin
      expect(await second).toEqual([C.AttestationDoubleVote]);
    } finally {
      await small.close();
    }
  });

  it("two stores racing conflicting attestations and blocks for one key: exactly one wins every round", async () => {
    await open();
    const stores: Store[] = [];
    const engines: EthereumProtection[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = await openStore(ts.url);
        stores.push(s);
        engines.push(await EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: s, logger: nullLogger }));
      }
      const keys = [pubkey(3), pubkey(4), pubkey(5)];
      for (let round = 1; round <= 20; round++) {
        const all: Promise<unknown>[] = [];
        for (const k of keys) {
          // the same target with different roots from p and both other engines, plus a block at one slot
          all.push(p.checkAndRecord(att(k, round - 1, round, 1)));
          engines.forEach((e, i) => {
            all.push(e.checkAndRecord(att(k, round - 1, round, i + 2)));
            all.push(e.checkAndRecord(blk(k, round, i + 1)));
          });
        }
        const res = await outcomes(all);
        for (let j = 0; j < keys.length; j++) {
          const mine = res.slice(j * 5, j * 5 + 5);
          const atts = [mine[0], mine[1], mine[3]];
          const blocks = [mine[2], mine[4]];
          expect(atts.filter((r) => r === "new")).toHaveLength(1);
          expect(atts.filter((r) => r === C.AttestationDoubleVote)).toHaveLength(2);
          expect(blocks.filter((r) => r === "new")).toHaveLength(1);
          expect(blocks.filter((r) => r === C.BlockDoubleProposal)).toHaveLength(1);
        }
      }
    } finally {
      for (const e of engines) await e.close();
      for (const s of stores) await s.close();
    }
  });
});

markPostgresSkipped("PostgreSQL decision batch: locks, then the state read under them");
