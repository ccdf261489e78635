import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempPathFor, writeFileDurable, writeFileDurableAsync } from "../../../src/util/durableFile.js";

const freshDir = (): string => mkdtempSync(join(tmpdir(), "durable-"));

describe("durable file writer", () => {
  it("gives every write its own temp name in the target's directory", () => {
    const dir = freshDir();
    const a = tempPathFor(join(dir, "state.json"));
    const b = tempPathFor(join(dir, "state.json"));
    expect(a).not.toBe(b);
    expect(a.startsWith(`${dir}/`)).toBe(true);
  });

  it("two concurrent writers of one path both succeed and the file holds one complete content", async () => {
    const dir = freshDir();
    const path = join(dir, "state.json");
    const one = "a".repeat(1 << 20);
    const two = "b".repeat(1 << 20);
    await Promise.all([writeFileDurableAsync(path, one), writeFileDurableAsync(path, two)]);
    expect([one, two]).toContain(readFileSync(path, "utf8"));
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("a synchronous write between the steps of an asynchronous one does not disturb it", async () => {
    const dir = freshDir();
    const path = join(dir, "key.json");
    const slow = writeFileDurableAsync(path, "x".repeat(1 << 20));
    writeFileDurable(path, "sync");
    await slow;
    expect(["sync", "x".repeat(1 << 20)]).toContain(readFileSync(path, "utf8"));
    expect(readdirSync(dir)).toEqual(["key.json"]);
  });

  it("writes mode 0600 by default, the given mode when asked, and keeps the replaced file's mode when unset", async () => {
    const dir = freshDir();
    writeFileDurable(join(dir, "secret"), "s");
    expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o600);
    writeFileDurable(join(dir, "public"), "p", 0o644);
    expect(statSync(join(dir, "public")).mode & 0o777).toBe(0o644);
    await writeFileDurableAsync(join(dir, "public"), "q");
    expect(statSync(join(dir, "public")).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(dir, "public"), "utf8")).toBe("q");
    await writeFileDurableAsync(join(dir, "new"), "n");
    expect(statSync(join(dir, "new")).mode & 0o777).toBe(0o600);
  });

  it("on failure removes its temp file and leaves the target as it was", async () => {
    const dir = freshDir();
    const target = join(dir, "occupied");
    mkdirSync(target);
    writeFileSync(join(target, "inside"), "keep");
    expect(() => writeFileDurable(target, "new")).toThrow();
    await expect(writeFileDurableAsync(target, "new")).rejects.toMatchObject({ code: expect.any(String) });
    expect(readdirSync(dir)).toEqual(["occupied"]);
    expect(readFileSync(join(target, "inside"), "utf8")).toBe("keep");
  });
});
