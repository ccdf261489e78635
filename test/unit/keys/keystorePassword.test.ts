import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KeyErrorCode } from "../../../src/keys/errors.js";
import { readPasswordFor } from "../../../src/keys/keystoreDir.js";
import { tempDir } from "../../utils/stores.js";

describe("readPasswordFor", () => {
  const dirs: { cleanup(): void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });
  const setup = () => {
    const t = tempDir("sg-pw-");
    dirs.push(t);
    const keys = join(t.dir, "keys");
    const passwords = join(t.dir, "passwords");
    mkdirSync(keys);
    mkdirSync(passwords);
    return { keys, passwords };
  };

  it("reads NAME.txt from the passwords folder first, dropping one trailing newline", () => {
    const { keys, passwords } = setup();
    writeFileSync(join(passwords, "k.txt"), "from-folder\n");
    writeFileSync(join(keys, "k.txt"), "beside");
    expect(readPasswordFor(join(keys, "k.json"), passwords)).toBe("from-folder");
  });

  it("with --passwords, a keystore the keymanager imported (its NAME.txt beside it) still loads after a restart", () => {
    const { keys, passwords } = setup();
    writeFileSync(join(keys, "imported.txt"), "beside");
    expect(readPasswordFor(join(keys, "imported.json"), passwords)).toBe("beside");
  });

  it("no password anywhere: a typed error", () => {
    const { keys, passwords } = setup();
    let code: unknown;
    try {
      readPasswordFor(join(keys, "none.json"), passwords);
    } catch (e) {
      code = (e as { code?: unknown }).code;
    }
    expect(code).toBe(KeyErrorCode.KeystorePasswordMissing);
  });
});
