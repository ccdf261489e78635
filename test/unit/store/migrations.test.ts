import { afterEach, describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { loadMigrations } from "../../../src/store/migrate.js";
import { openStore } from "../../../src/store/openStore.js";
import { ENGINES, freshStoreUrl, markPostgresSkipped } from "../../utils/stores.js";

describe.each(ENGINES)("migrations on %s", (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it("applies every migration once, records them, and reopening changes nothing", async () => {
    const { url, cleanup } = await freshStoreUrl(engine);
    cleanups.push(cleanup);
    const known = loadMigrations(engine);
    const a = await openStore(url);
    expect(a.schemaVersion).toBe(known[known.length - 1]!.version);
    await a.close();
    const b = await openStore(url);
    const rows = await b.tx((tx) => tx.all("SELECT version FROM schema_migrations ORDER BY version"));
    expect(rows.map((r) => Number(r.version))).toEqual(known.map((m) => m.version));
    await b.close();
  });

  it("both dialects have the same migration numbers", () => {
    expect(loadMigrations("sqlite").map((m) => m.version)).toEqual(loadMigrations("postgres").map((m) => m.version));
  });

  it("refuses a database with a newer schema than this binary knows, and writes nothing", async () => {
    const { url, cleanup } = await freshStoreUrl(engine);
    cleanups.push(cleanup);
    const s = await openStore(url);
    await s.tx((tx) =>
      tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'x')"),
    );
    await s.close();
    await expect(openStore(url)).rejects.toMatchObject({ code: StoreErrorCode.SchemaTooNew });
  });

  it("0007 merges a public key filed under several Substrate key types into one row, losing no record", async () => {
    const { url, cleanup } = await freshStoreUrl(engine);
    cleanups.push(cleanup);
    const P = new Uint8Array(32).fill(0xd4);
    const Q = new Uint8Array(32).fill(0x8e);
    const h = (n: number): Uint8Array => new Uint8Array(32).fill(n);
    // a database as 0006 left it: the public key P filed under babe, audi and para, and Q under babe
    const s = await openStore(url);
    await s.tx(async (tx) => {
      await tx.run("DROP INDEX substrate_keys_one_key_type");
      await tx.run("DELETE FROM schema_migrations WHERE version = 7");
      const key = async (type: string, pk: Uint8Array, enabled = true): Promise<number> => {
        await tx.run("INSERT INTO substrate_keys (key_type, public_key, enabled) VALUES ($1, $2, $3)", [
          type,
          pk,
          enabled,
        ]);
        const [r] = await tx.all("SELECT id FROM substrate_keys WHERE key_type = $1 AND public_key = $2", [type, pk]);
        return Number(r!.id);
      };
      const babe = await key("babe", P);
      const audi = await key("audi", P);
      const para = await key("para", P, false);
      const q = await key("babe", Q);
      const block = (id: number, slot: bigint, pre: Uint8Array | null) =>
        tx.run("INSERT INTO substrate_babe_blocks (key_id, slot, pre_hash, authority_index) VALUES ($1, $2, $3, 1)", [
          id,
          tx.u64(slot),
          pre,
        ]);
      await block(babe, 5n, h(1));
      await block(audi, 5n, h(2)); // a second header for slot 5: the merged record refuses both
      await block(audi, 6n, h(3));
      await block(para, 6n, h(3)); // the same header twice stays
      await block(q, 5n, h(9));
      const vote = (id: number, target: number) =>
        tx.run(
          "INSERT INTO substrate_grandpa_votes (key_id, set_id, round, stage, target_hash, target_number) VALUES ($1, $2, $3, 0, $4, $5)",
          [id, tx.u64(1n), tx.u64(1n), h(target), tx.u64(BigInt(target))],
        );
      await vote(babe, 7);
      await vote(audi, 7);
      await vote(para, 8);
      const paraVote = (id: number, side: number, statements: number, session: bigint) =>
        tx.run(
          "INSERT INTO substrate_para_votes (key_id, candidate_hash, side, statements, session) VALUES ($1, $2, $3, $4, $5)",
          [id, h(5), side, statements, tx.u64(session)],
        );
      await paraVote(audi, 1, 1, 3n);
      await paraVote(para, 0, 4, 4n);
      await tx.run(
        "INSERT INTO substrate_beefy_votes (key_id, set_id, block_number, commitment_hash) VALUES ($1, $2, $3, $4)",
        [para, tx.u64(2n), tx.u64(100n), h(6)],
      );
      await tx.run("UPDATE substrate_keys SET low_slot = $1 WHERE id = $2", [tx.u64(7n), para]);
    });
    await s.close();

    const m = await openStore(url);
    try {
      const got = await m.tx(
        async (tx) => {
          const keys = await tx.all(
            "SELECT id, key_type, public_key, enabled, low_slot FROM substrate_keys ORDER BY id",
          );
          const [p] = keys.filter((k) => Buffer.from(k.public_key as Buffer).equals(Buffer.from(P)));
          const id = Number(p!.id);
          const hex = (v: unknown) =>
            v === null
              ? null
              : Buffer.from(v as Buffer)
                  .toString("hex")
                  .slice(0, 2);
          return {
            keys: keys.map((k) => String(k.key_type)),
            kept: { type: p!.key_type, enabled: Boolean(p!.enabled), lowSlot: tx.fromU64Nullable(p!.low_slot) },
            blocks: (
              await tx.all("SELECT slot, pre_hash FROM substrate_babe_blocks WHERE key_id = $1 ORDER BY slot", [id])
            ).map((r) => [tx.fromU64(r.slot), hex(r.pre_hash)]),
            votes: (
              await tx.all("SELECT target_hash, target_number FROM substrate_grandpa_votes WHERE key_id = $1", [id])
            ).map((r) => [hex(r.target_hash), tx.fromU64Nullable(r.target_number)]),
            para: (
              await tx.all("SELECT side, statements, session FROM substrate_para_votes WHERE key_id = $1", [id])
            ).map((r) => [
              r.side === null ? null : Number(r.side),
              Number(r.statements),
              tx.fromU64Nullable(r.session),
            ]),
            beefy: Number(
              (await tx.all("SELECT count(*) AS n FROM substrate_beefy_votes WHERE key_id = $1", [id]))[0]!.n,
            ),
            orphans: Number(
              (
                await tx.all(
                  "SELECT count(*) AS n FROM substrate_babe_blocks WHERE key_id NOT IN (SELECT id FROM substrate_keys)",
                )
              )[0]!.n,
            ),
          };
        },
        { readOnly: true },
      );
      expect(got).toEqual({
        keys: ["babe", "babe"],
        kept: { type: "babe", enabled: false, lowSlot: 7n },
        blocks: [
          [5n, null],
          [6n, "03"],
        ],
        votes: [[null, null]],
        para: [[null, 5, 4n]],
        beefy: 1,
        orphans: 0,
      });
      // and from now on a public key has one row
      await expect(
        m.tx((tx) => tx.run("INSERT INTO substrate_keys (key_type, public_key) VALUES ('audi', $1)", [P])),
      ).rejects.toMatchObject({ code: StoreErrorCode.Conflict });
    } finally {
      await m.close();
    }
  });

  it("refuses an unsupported URL with a typed error", async () => {
    await expect(openStore("mysql://x/y")).rejects.toMatchObject({ code: StoreErrorCode.BadUrl });
    await expect(openStore("sqlite:")).rejects.toMatchObject({ code: StoreErrorCode.BadUrl });
  });
});

markPostgresSkipped("migrations");
