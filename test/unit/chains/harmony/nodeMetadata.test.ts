import { describe, expect, it } from "vitest";
import { harmonyActivity, parseHarmonyFacts } from "../../../../src/chains/harmony/agentFacts.js";
import {
  blsKeyFromFileName,
  HarmonyErrorCode,
  isActivelySigning,
  parseNodeMetadata,
} from "../../../../src/chains/harmony/nodeMetadata.js";
import { BadRequestError, isAppError } from "../../../../src/util/errors.js";
import { HARMONY_NEEDS, HARMONY_VECTORS, harmonyVector } from "../../../utils/fakeNodes.js";
import { mutate, rng } from "../../../utils/fuzz.js";
import { loadVectorFiles, skipWithoutVectors } from "../../../utils/vectors.js";

describe("hmyv2_getNodeMetadata parsing", () => {
  it("reads every constructed vector", (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const files = loadVectorFiles<unknown>("harmony");
    expect(files.length).toBe(4);
    for (const f of files) {
      const m = parseNodeMetadata(f.data);
      expect(m.blsKeys.every((k) => /^0x[0-9a-f]{96}$/.test(k))).toBe(true);
    }
  });

  it("takes the fields the monitor needs from the normal, backup, listening and syncing nodes", (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const normal = parseNodeMetadata(harmonyVector(HARMONY_VECTORS.normal));
    expect(normal).toMatchObject({
      mode: "Normal",
      isBackup: false,
      shardId: 0,
      network: "mainnet",
      role: "Validator",
    });
    expect(normal.blsKeys).toHaveLength(2);
    expect(normal.currentEpoch).toBe(2358n);
    const backup = parseNodeMetadata(harmonyVector(HARMONY_VECTORS.backup));
    expect(backup).toMatchObject({ mode: "Normal", isBackup: true });
    expect(backup.blsKeys).toEqual(normal.blsKeys);
    expect(parseNodeMetadata(harmonyVector(HARMONY_VECTORS.listening))).toMatchObject({
      mode: "Listening",
      shardId: 1,
    });
    expect(parseNodeMetadata(harmonyVector(HARMONY_VECTORS.syncing))).toMatchObject({ mode: "Syncing" });
  });

  it("signs only in Normal or ViewChanging and never as a backup", () => {
    const table: [string, boolean, boolean][] = [
      ["Normal", false, true],
      ["ViewChanging", false, true],
      ["Normal", true, false],
      ["ViewChanging", true, false],
      ["Syncing", false, false],
      ["Listening", false, false],
    ];
    for (const [mode, isBackup, want] of table) {
      expect(isActivelySigning({ mode: mode as "Normal", isBackup })).toBe(want);
      const f = parseHarmonyFacts({ loaded: true, mode, is_backup: isBackup, shard_id: 0 });
      expect(harmonyActivity(f).active).toBe(want);
    }
    expect(
      harmonyActivity(parseHarmonyFacts({ loaded: false, mode: "Normal", is_backup: false, shard_id: 0 })).active,
    ).toBe(false);
    expect(
      harmonyActivity(parseHarmonyFacts({ loaded: true, mode: null, is_backup: null, shard_id: null })).active,
    ).toBe(false);
  });

  it("tolerates missing optional keys and an RPC error is typed", (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const r = structuredClone(harmonyVector(HARMONY_VECTORS.normal).result);
    delete r["sync-peers"];
    delete r["blocks-per-epoch"];
    delete r["is-backup"];
    expect(parseNodeMetadata({ result: r }).isBackup).toBe(false);
    expect(() => parseNodeMetadata({ jsonrpc: "2.0", id: 1, error: { code: -1, message: "no" } })).toThrow(
      expect.objectContaining({ code: HarmonyErrorCode.RpcError }),
    );
  });

  it("key file names give public keys; other names are ignored", () => {
    const k = "5282193707c4192aa97d2db8a8846f1c19528a69a49c6a5a17a64a342e9ed8f23dcf9b01d74ac60932196d5f9365db4a";
    expect(blsKeyFromFileName(`${k}.key`)).toBe(`0x${k}`);
    expect(blsKeyFromFileName(`${k.toUpperCase()}.pass`)).toBe(`0x${k}`);
    expect(blsKeyFromFileName(`${k}.bls`)).toBe(`0x${k}`);
    for (const n of [`${k}.txt`, `${k.slice(2)}.key`, "README.md", `${k}.key.bak`])
      expect(blsKeyFromFileName(n)).toBeNull();
  });

  it("fuzz: a mutated answer parses or fails with a typed error, never anything else", (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const r = rng(4242);
    const base = harmonyVector(HARMONY_VECTORS.normal);
    for (let i = 0; i < 2000; i++) {
      const v = mutate(base, r);
      try {
        const m = parseNodeMetadata(v);
        expect(["Normal", "ViewChanging", "Syncing", "Listening"]).toContain(m.mode);
      } catch (e) {
        expect(isAppError(e)).toBe(true);
        expect((e as { code: string }).code).toBe(HarmonyErrorCode.BadMetadata);
      }
      try {
        parseHarmonyFacts(mutate({ loaded: true, mode: "Normal", is_backup: false, shard_id: 0 }, r));
      } catch (e) {
        expect(e).toBeInstanceOf(BadRequestError);
      }
    }
  });
});
