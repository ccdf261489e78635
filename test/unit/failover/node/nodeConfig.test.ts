import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ensureDoubleSignCheckHeight,
  readDoubleSignCheckHeight,
  setDoubleSignCheckHeight,
} from "../../../../src/failover/node/nodeConfig.js";
import { tempDir } from "../../../utils/stores.js";

describe("config.toml double_sign_check_height", () => {
  it.each([
    [
      "replaces the value in [consensus]",
      '[p2p]\nx = 1\n\n[consensus]\ndouble_sign_check_height = 0\ntimeout = "1s"\n',
    ],
    ["adds it to [consensus]", '[consensus]\ntimeout = "1s"\n[mempool]\nsize = 5\n'],
    ["adds a [consensus] section", 'moniker = "a"\n'],
    ["leaves other sections' keys alone", "[other]\ndouble_sign_check_height = 9\n"],
    ["works on an empty file", ""],
  ])("%s", (_n, toml) => {
    const out = setDoubleSignCheckHeight(toml, 5n);
    expect(readDoubleSignCheckHeight(out)).toBe(5n);
    // everything else survives
    for (const line of toml.split("\n")) if (!/^double_sign_check_height = 0$/.test(line)) expect(out).toContain(line);
    expect(setDoubleSignCheckHeight(out, 5n)).toBe(out);
  });

  it("writes the file only when the value changes, keeping its mode", async () => {
    const t = tempDir("sg-toml-");
    try {
      const f = join(t.dir, "config.toml");
      writeFileSync(f, "[consensus]\n", { mode: 0o640 });
      expect(await ensureDoubleSignCheckHeight(f, 3n)).toBe(true);
      expect(await ensureDoubleSignCheckHeight(f, 3n)).toBe(false);
      expect(readDoubleSignCheckHeight(readFileSync(f, "utf8"))).toBe(3n);
      expect(statSync(f).mode & 0o777).toBe(0o640);
    } finally {
      t.cleanup();
    }
  });
});
