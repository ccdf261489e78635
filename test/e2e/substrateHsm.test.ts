import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeGrandpaPayload } from "../../src/chains/substrate/grandpa.js";
import { GrandpaStage } from "../../src/chains/substrate/types.js";
import { HsmErrorCode } from "../../src/keys/pkcs11/errors.js";
import { readSubstrateKeyFile } from "../../src/keys/pkcs11/importSource.js";
import { withTokenSession } from "../../src/keys/pkcs11/tokenAdmin.js";
import { ed25519Verify } from "../../src/util/curve25519.js";
import { runCli } from "../utils/cometSignerProcess.js";
import { HAS_SOFTHSM, markSoftHsmSkipped, type SoftHsm, softHsm } from "../utils/softhsm.js";
import { freshStoreUrl, tempDir } from "../utils/stores.js";
import {
  call,
  type KeystoreClient,
  keystoreClient,
  type SignerProcess,
  SUBSTRATE_SIGNER_NEEDS,
  startSignerProcess,
} from "../utils/substrateSigner.js";
import { loadVector, withVectors } from "../utils/vectors.js";

const TOKEN = "grandpa-hsm";
const UNAVAILABLE = 4;
const prevote = (target: number, round: bigint): Uint8Array =>
  encodeGrandpaPayload({
    stage: GrandpaStage.Prevote,
    targetHash: new Uint8Array(32).fill(target),
    targetNumber: BigInt(100 + target),
    round,
    setId: 3n,
  });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

markSoftHsmSkipped("Substrate GRANDPA key in SoftHSM");

withVectors("Substrate gran key in SoftHSM", SUBSTRATE_SIGNER_NEEDS, () => {
  describe.skipIf(!HAS_SOFTHSM)("Substrate signer, gran key in a PKCS#11 token (SoftHSM2, gRPC)", () => {
    const work = tempDir("sg-sub-hsm-");
    let hsm: SoftHsm;
    let gran: Uint8Array;
    let db: { url: string; cleanup: () => Promise<void> };
    let signer: SignerProcess;
    let c: KeystoreClient;

    const sign = async (message: Uint8Array): Promise<{ sig: Buffer; error: number; code: string | null }> => {
      const r = await call(c, "SignWith", {
        key_type: "gran",
        crypto_type: "ed25519",
        public_key: Buffer.from(gran),
        message: Buffer.from(message),
      });
      if ("error" in r) throw r.error;
      const s = r.reply.signature as { signature: Buffer; error: number };
      return { sig: s.signature, error: s.error, code: r.code };
    };
    const healthStatus = async (): Promise<number> => (await fetch(`${signer.httpAddress}/healthcheck`)).status;

    beforeAll(async () => {
      hsm = softHsm(work.dir);
      hsm.initToken(TOKEN);
      // //Alice's GRANDPA key file from the vectors, moved into the token (and the copy deleted)
      const file = loadVector<{ keystore_files: { key_type: string; file_name: string; file_content: string }[] }>(
        "substrate/keys.json",
      ).keystore_files.find((f) => f.key_type === "gran")!;
      const src = join(work.dir, file.file_name);
      writeFileSync(src, file.file_content, { mode: 0o600 });
      const target = ["--module", hsm.module, "--token-label", TOKEN, "--pin-file", hsm.pinFile];
      const r = await runCli([
        "keys",
        "hsm",
        "import",
        ...target,
        "--label",
        "gran-alice",
        "--substrate-key",
        src,
        "--delete-source",
      ]);
      expect(r.code).toBe(0);
      const last = r.stdout.trimEnd().split("\n").at(-1)!;
      expect(last).toBe(file.file_name.slice(8));
      gran = new Uint8Array(Buffer.from(last, "hex"));
      expect(existsSync(src)).toBe(false);

      const ks = join(work.dir, "keystore");
      mkdirSync(ks);
      db = await freshStoreUrl("sqlite");
      signer = await startSignerProcess({
        dbUrl: db.url,
        keystore: ks,
        workDir: work.dir,
        extraConfig: [
          "  pkcs11_keys:",
          "    - key_type: gran",
          "      pkcs11:",
          `        module: ${JSON.stringify(hsm.module)}`,
          `        token_label: ${TOKEN}`,
          `        pin_file: ${JSON.stringify(hsm.pinFile)}`,
          "        key_label: gran-alice",
          "",
        ].join("\n"),
      });
    });
    afterEach(() => c?.close());
    afterAll(async () => {
      await signer?.stop();
      await db?.cleanup();
      work.cleanup();
    });

    it("serves the token's key and signs GRANDPA votes with it; equivocations are refused as before", async () => {
      c = keystoreClient(signer.grpcAddress);
      const keys = await call(c, "Ed25519PublicKeys", { key_type: "gran" });
      expect(
        "reply" in keys && (keys.reply.public_keys as Buffer[]).map((k) => Buffer.from(k).toString("hex")),
      ).toEqual([Buffer.from(gran).toString("hex")]);
      for (let round = 1n; round <= 5n; round++) {
        const m = prevote(1, round);
        const r = await sign(m);
        expect(r.error).toBe(0);
        expect(ed25519Verify(gran, m, r.sig)).toBe(true);
        // the same vote again: allowed, the same data
        expect(ed25519Verify(gran, m, (await sign(m)).sig)).toBe(true);
        // another target in the same round: an equivocation, no signature
        const twin = await sign(prevote(2, round));
        expect(twin.sig).toHaveLength(0);
        expect(twin.code).toMatch(/^ERR_SUBSTRATE_/);
      }
    });

    it("token pulled mid-run: no signature (UNAVAILABLE, ERR_HSM_…), health red; back in: signing resumes", async () => {
      c = keystoreClient(signer.grpcAddress);
      const m = prevote(1, 50n);
      hsm.pull();
      try {
        const r = await sign(m);
        expect(r.sig).toHaveLength(0);
        expect(r.error).toBe(UNAVAILABLE);
        expect(r.code).toMatch(/^ERR_HSM_/);
        expect((await sign(prevote(1, 51n))).code).toBe("ERR_HSM_UNAVAILABLE");
        expect(await healthStatus()).toBe(503);
      } finally {
        hsm.plugBack();
      }
      while ((await healthStatus()) !== 200) await sleep(20);
      // the vote of round 50 was recorded before the token failed: the same vote signs now, a twin does not
      const again = await sign(m);
      expect(ed25519Verify(gran, m, again.sig)).toBe(true);
      expect((await sign(prevote(2, 50n))).sig).toHaveLength(0);
    });

    it("reads a node's ed25519 keystore file for import; refuses an sr25519 one", async () => {
      const files = loadVector<{ keystore_files: { key_type: string; file_name: string; file_content: string }[] }>(
        "substrate/keys.json",
      ).keystore_files;
      const write = (keyType: string): string => {
        const f = files.find((x) => x.key_type === keyType)!;
        const path = join(work.dir, f.file_name);
        writeFileSync(path, f.file_content);
        return path;
      };
      const src = await readSubstrateKeyFile(write("gran"));
      expect(src.keyType).toBe("gran");
      expect(src.publicKey).toEqual(gran);
      // the same key is in the token already (imported by the CLI above): the label is free, the key is not new
      const target = { module: hsm.module, tokenLabel: TOKEN, pinFile: hsm.pinFile };
      const info = withTokenSession(target, true, (s) => s.importSeed("gran-again", src.seed, src.publicKey));
      expect(info.publicKey).toEqual(gran);
      await expect(readSubstrateKeyFile(write("babe"))).rejects.toMatchObject({ code: HsmErrorCode.ImportSource });
    });
  });
});
