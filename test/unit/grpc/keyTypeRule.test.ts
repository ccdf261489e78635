import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { RemoteKeystoreHandlers } from "../../../src/grpc/handlers.js";
import { cryptoReady, pairFromSuri } from "../../../src/keys/substrate/keyPair.js";
import { copyKeystore, SubstrateKeystore } from "../../../src/keys/substrate/keystore.js";
import { keystoreFileName } from "../../../src/keys/substrate/keystoreFiles.js";
import { importSubstrateInterchange } from "../../../src/protection/substrate/interchange.js";
import { SubstrateProtection } from "../../../src/protection/substrate/substrateProtection.js";
import type { Store } from "../../../src/store/types.js";
import { nullLogger } from "../../../src/util/logger.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore, tempDir } from "../../utils/stores.js";
import { DEV_ALICE, sealRequest } from "../../utils/substrate.js";

/**
 * Issue 14 defect 7: protection follows the public key, not the key type of the request. The rule
 * chosen: one public key is filed under one key type only. Before, //Alice filed as `babe` and as `audi`
 * (dev seeds, the Insert call, two keystore files) sealed a second BABE header for a slot through the
 * unprotected `audi` type.
 */
const CONFLICT = "ERR_SUBSTRATE_KEY_TYPE_CONFLICT";
const PAIR_NOT_FOUND = 2;

let alice: Uint8Array;
beforeAll(async () => {
  await cryptoReady();
  alice = pairFromSuri("sr25519", DEV_ALICE).publicKey;
});

describe.each(ENGINES)("one public key, one key type (%s)", (engine) => {
  const stores: TestStore[] = [];
  const dirs: { cleanup: () => void }[] = [];
  const protections: SubstrateProtection[] = [];
  afterEach(async () => {
    for (const p of protections.splice(0)) await p.close();
    for (const s of stores.splice(0)) await s.dispose();
    for (const d of dirs.splice(0)) d.cleanup();
  });

  function keystoreDir(files: string[]): string {
    const t = tempDir("sg-ktype-");
    dirs.push(t);
    for (const type of files) writeFileSync(join(t.dir, keystoreFileName(type, alice)), JSON.stringify(DEV_ALICE));
    return t.dir;
  }

  function signer(store: Store, dir: string): { h: RemoteKeystoreHandlers; ks: SubstrateKeystore } {
    const protection = new SubstrateProtection({}, { store, logger: nullLogger });
    protections.push(protection);
    const ks = SubstrateKeystore.open(dir, nullLogger);
    const h = new RemoteKeystoreHandlers(
      { maxMessageBytes: 1 << 20, requirePayload: () => true },
      { keystore: ks, protection, logger: nullLogger },
    );
    return { h, ks };
  }

  async function store(): Promise<Store> {
    const s = await openTestStore(engine);
    stores.push(s);
    return s.store;
  }

  /** Seals a header for `slot` (parent tag `parent`) under `keyType`; the signature, or the error's code. */
  async function seal(h: RemoteKeystoreHandlers, keyType: string, slot: bigint, parent: number) {
    const r = sealRequest(slot, parent);
    const res = await h.signWith({
      key_type: keyType,
      crypto_type: "sr25519",
      public_key: Buffer.from(alice),
      message: r.message,
      payload: { message: "block_proposal", ...r.payload } as never,
    });
    const s = res.reply.signature;
    return {
      signed: s.error === 0 && s.signature.length === 64,
      error: s.error,
      code: (res.errors[0] as { code?: string } | undefined)?.code ?? null,
    };
  }

  it("two keystore files for one public key: neither is served, so no second seal for a slot", async () => {
    const { h, ks } = signer(await store(), keystoreDir(["babe", "audi"]));
    const first = await seal(h, "babe", 5n, 1);
    const second = await seal(h, "audi", 5n, 2);
    expect([first.signed, second.signed]).toEqual([false, false]);
    expect([first.error, second.error]).toEqual([PAIR_NOT_FOUND, PAIR_NOT_FOUND]);
    expect(ks.publicKeys("babe")).toEqual([]);
    expect(ks.publicKeys("audi")).toEqual([]);
  });

  it("Insert of a public key under a second key type is refused and writes no file", async () => {
    const dir = keystoreDir(["babe"]);
    const { h } = signer(await store(), dir);
    expect((await seal(h, "babe", 5n, 1)).signed).toBe(true);
    const ins = await h.insert({ key_type: "audi", suri: DEV_ALICE, public_key: Buffer.from(alice) });
    expect(ins.reply.error).not.toBe(0);
    expect((ins.errors[0] as { code?: string }).code).toBe(CONFLICT);
    expect(existsSync(join(dir, keystoreFileName("audi", alice)))).toBe(false);
    const second = await seal(h, "audi", 5n, 2);
    expect(second.signed).toBe(false);
    // the same type again is fine (the node re-inserts its keys at start)
    expect((await h.insert({ key_type: "babe", suri: DEV_ALICE, public_key: Buffer.from(alice) })).reply.error).toBe(0);
  });

  it("GenerateNew with a dev seed already filed under another key type is refused and writes no file", async () => {
    const dir = keystoreDir(["babe"]);
    const { h } = signer(await store(), dir);
    const gen = await h.generateNew("sr25519", { key_type: "audi", seed: DEV_ALICE });
    expect(gen.reply.error).not.toBe(0);
    expect((gen.errors[0] as { code?: string }).code).toBe(CONFLICT);
    expect(readdirSync(dir)).toEqual([keystoreFileName("babe", alice)]);
    expect((await seal(h, "audi", 5n, 2)).signed).toBe(false);
  });

  it("two signer instances on one database, one filing the key as babe and one as audi: one seal per slot", async () => {
    const db = await store();
    const a = signer(db, keystoreDir(["babe"]));
    const b = signer(db, keystoreDir(["audi"]));
    expect((await seal(a.h, "babe", 5n, 1)).signed).toBe(true);
    const other = await seal(b.h, "audi", 5n, 2);
    expect(other.signed).toBe(false);
    expect(other.code).toBe(CONFLICT);
  });

  it("an interchange that files a public key under another key type is refused whole", async () => {
    const db = await store();
    const a = signer(db, keystoreDir(["babe"]));
    expect((await seal(a.h, "babe", 5n, 1)).signed).toBe(true);
    const hex = `0x${Buffer.from(alice).toString("hex")}`;
    const file = (types: string[]) =>
      JSON.stringify({
        metadata: { format: "slashguard.substrate.interchange", version: "1" },
        keys: types.map((t) => ({
          key_type: t,
          public_key: hex,
          low: { set_id: null, slot: null, session: null },
          babe_blocks: [{ slot: "9", pre_hash: `0x${"11".repeat(32)}`, authority_index: 1 }],
        })),
      });
    await expect(importSubstrateInterchange(db, file(["audi"]))).rejects.toMatchObject({ code: CONFLICT });
    await expect(importSubstrateInterchange(db, file(["babe", "audi"]))).rejects.toMatchObject({ code: CONFLICT });
    const rows = await db.tx((tx) => tx.all("SELECT count(*) AS n FROM substrate_babe_blocks"), { readOnly: true });
    expect(Number(rows[0]!.n)).toBe(1);
    // the bound type imports fine
    expect(await importSubstrateInterchange(db, file(["babe"]))).toMatchObject({ keys: 1 });
  });
});

markPostgresSkipped("one public key, one key type");

describe("keystore files", () => {
  it("a conflicting pair of files is skipped while the other keys load", async () => {
    await cryptoReady();
    const t = tempDir("sg-ktype-");
    try {
      const bob = pairFromSuri("sr25519", "//Bob").publicKey;
      writeFileSync(join(t.dir, keystoreFileName("babe", alice)), JSON.stringify(DEV_ALICE));
      writeFileSync(join(t.dir, keystoreFileName("para", alice)), JSON.stringify(DEV_ALICE));
      writeFileSync(join(t.dir, keystoreFileName("babe", bob)), JSON.stringify("//Bob"));
      mkdirSync(join(t.dir, "sub"));
      const ks = SubstrateKeystore.open(t.dir, nullLogger);
      expect(ks.list().map((k) => k.keyType)).toEqual(["babe"]);
      expect(ks.publicKeys("babe")).toEqual([bob]);
    } finally {
      t.cleanup();
    }
  });

  it("copying keystores never files one public key under two key types", async () => {
    await cryptoReady();
    const from = tempDir("sg-ktype-");
    const to = tempDir("sg-ktype-");
    try {
      writeFileSync(join(from.dir, keystoreFileName("babe", alice)), JSON.stringify(DEV_ALICE));
      writeFileSync(join(to.dir, keystoreFileName("audi", alice)), JSON.stringify(DEV_ALICE));
      const s = await copyKeystore(from.dir, to.dir, null);
      expect(s).toMatchObject({ copied: 0, conflicts: [keystoreFileName("babe", alice)] });
      expect(readdirSync(to.dir)).toEqual([keystoreFileName("audi", alice)]);
    } finally {
      from.cleanup();
      to.cleanup();
    }
  });
});
