import { createPrivateKey, sign as edSign } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkcs11js from "pkcs11js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HsmErrorCode } from "../../../src/keys/pkcs11/errors.js";
import { readPrivValidatorKey, secureDelete } from "../../../src/keys/pkcs11/importSource.js";
import { type TokenTarget, withTokenSession } from "../../../src/keys/pkcs11/tokenAdmin.js";
import { ed25519Verify } from "../../../src/util/curve25519.js";
import { seedOf, testKey } from "../../utils/comet.js";
import { writeKeyFile } from "../../utils/cometSignerProcess.js";
import { HAS_SOFTHSM, markSoftHsmSkipped, type SoftHsm, softHsm, USER_PIN } from "../../utils/softhsm.js";
import { tempDir } from "../../utils/stores.js";

const TOKEN = "sg-token-test";
const PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const softwareSign = (seed: Uint8Array, m: Uint8Array): Uint8Array =>
  new Uint8Array(
    edSign(null, m, createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: "der", type: "pkcs8" })),
  );
const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

markSoftHsmSkipped("PKCS#11 token operations");

describe.skipIf(!HAS_SOFTHSM)("PKCS#11 token operations on SoftHSM2", () => {
  const work = tempDir("sg-hsm-token-");
  let hsm: SoftHsm;
  let t: TokenTarget;

  beforeAll(() => {
    hsm = softHsm(work.dir);
    hsm.initToken(TOKEN);
    t = { module: hsm.module, tokenLabel: TOKEN, pinFile: hsm.pinFile };
  });
  afterAll(() => work.cleanup());

  it("generates a key inside the token; its signatures verify under the public key read from the token", () => {
    const made = withTokenSession(t, true, (s) => s.generate("gen-1"));
    expect(made).toMatchObject({ label: "gen-1", sensitive: true, extractable: false, neverExtractable: true });
    expect(made.publicKey).toHaveLength(32);
    const { found, sig } = withTokenSession(t, false, (s) => {
      const f = s.findKey({ label: "gen-1" });
      return { found: f.info, sig: s.sign(f.handle, new TextEncoder().encode("vote")) };
    });
    expect(found.publicKey).toEqual(made.publicKey);
    expect(ed25519Verify(made.publicKey, new TextEncoder().encode("vote"), sig)).toBe(true);
    expect(ed25519Verify(made.publicKey, new TextEncoder().encode("other"), sig)).toBe(false);
    // by CKA_ID as well
    expect(withTokenSession(t, false, (s) => s.findKey({ id: made.id }).info.publicKey)).toEqual(made.publicKey);
    expect(code(() => withTokenSession(t, true, (s) => s.generate("gen-1")))).toBe(HsmErrorCode.LabelTaken);
  });

  it("imports a priv_validator_key.json: the token signs exactly as the software key did", () => {
    const seed = seedOf("hsm-import");
    const file = writeKeyFile(work.dir, seed, testKey("hsm-import"), "import_key.json");
    const src = readPrivValidatorKey(file);
    expect(src.publicKey).toEqual(testKey("hsm-import").publicKey);
    const info = withTokenSession(t, true, (s) => s.importSeed("imported-1", src.seed, src.publicKey));
    expect(info).toMatchObject({ sensitive: true, extractable: false, neverExtractable: false });
    const m = new TextEncoder().encode("canonical vote bytes");
    const sig = withTokenSession(t, false, (s) => s.sign(s.findKey({ label: "imported-1" }).handle, m));
    // Ed25519 is deterministic: same seed, same message, same signature
    expect(sig).toEqual(softwareSign(seed, m));
    expect(listed().find((k) => k.label === "imported-1")?.publicKey).toEqual(src.publicKey);
    // the secret cannot be read back out of the token
    const read = raw((p, s) => {
      p.C_FindObjectsInit(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_LABEL, value: "imported-1" },
      ]);
      const [h] = p.C_FindObjects(s, 1);
      p.C_FindObjectsFinal(s);
      try {
        p.C_GetAttributeValue(s, h!, [{ type: pkcs11js.CKA_VALUE }]);
        return "readable";
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(read).toContain("CKR_ATTRIBUTE_SENSITIVE");
  });

  it("refuses an import whose seed does not match the given public key, and leaves nothing behind", () => {
    const src = readPrivValidatorKey(writeKeyFile(work.dir, seedOf("a"), testKey("a"), "a.json"));
    const wrongPub = testKey("b").publicKey;
    expect(code(() => withTokenSession(t, true, (s) => s.importSeed("mismatch", src.seed, wrongPub)))).toBe(
      HsmErrorCode.BadSignature,
    );
    expect(listed().some((k) => k.label === "mismatch")).toBe(false);
    expect(code(() => withTokenSession(t, true, (s) => s.importSeed("mismatch", src.seed, src.publicKey)))).toBe(
      undefined,
    );
  });

  it("refuses keys that could leave the token, duplicates, and unknown keys", () => {
    // an extractable, non-sensitive Ed25519 key (and two keys with one label) made with the raw module
    raw((p, s) => {
      const gen = (label: string, extractable: boolean): void => {
        p.C_GenerateKeyPair(
          s,
          { mechanism: 0x1055 },
          [
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_LABEL, value: label },
            { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from("06032b6570", "hex") },
          ],
          [
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_LABEL, value: label },
            { type: pkcs11js.CKA_SIGN, value: true },
            { type: pkcs11js.CKA_SENSITIVE, value: !extractable },
            { type: pkcs11js.CKA_EXTRACTABLE, value: extractable },
          ],
        );
      };
      gen("soft", true);
      gen("twice", false);
      gen("twice", false);
    });
    const find = (label: string): string | undefined =>
      code(() => withTokenSession(t, false, (s) => s.findKey({ label })));
    expect(find("soft")).toBe(HsmErrorCode.KeyUnsuitable);
    expect(find("twice")).toBe(HsmErrorCode.KeyAmbiguous);
    expect(find("nobody")).toBe(HsmErrorCode.KeyNotFound);
  });

  it("typed errors for a wrong PIN, an unknown token, a missing PIN file and a missing module", () => {
    const wrong = join(work.dir, "wrong.pin");
    writeFileSync(wrong, "0000\n");
    const run = (o: Partial<TokenTarget>): string | undefined =>
      code(() => withTokenSession({ ...t, ...o }, false, (s) => s.list()));
    expect(run({ pinFile: wrong })).toBe(HsmErrorCode.Login);
    expect(run({ tokenLabel: "no-such-token" })).toBe(HsmErrorCode.TokenNotFound);
    expect(run({ pinFile: join(work.dir, "missing.pin") })).toBe(HsmErrorCode.PinFile);
    expect(run({ module: join(work.dir, "libnothing.so") })).toBe(HsmErrorCode.Module);
  });

  it("deletes an import source securely", () => {
    const path = writeKeyFile(work.dir, seedOf("del"), testKey("del"), "del.json");
    secureDelete(path);
    expect(existsSync(path)).toBe(false);
    expect(() => secureDelete(path)).toThrow();
  });

  /** A raw pkcs11js session, for what slashguard itself never does (the module is finalised after). */
  function raw<T>(f: (p: InstanceType<typeof pkcs11js.PKCS11>, s: Buffer) => T): T {
    const p = new pkcs11js.PKCS11();
    p.load(hsm.module);
    p.C_Initialize();
    try {
      const slot = p.C_GetSlotList(true).find((x) => p.C_GetTokenInfo(x).label.trimEnd() === TOKEN)!;
      const s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      p.C_Login(s, pkcs11js.CKU_USER, USER_PIN);
      return f(p, s);
    } finally {
      p.C_Finalize();
      p.close();
    }
  }

  function listed(): { label: string; publicKey: Uint8Array }[] {
    return withTokenSession(t, false, (s) => s.list());
  }
});
