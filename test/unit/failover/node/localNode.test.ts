import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalNode } from "../../../../src/failover/node/localNode.js";
import { FakeNode } from "../../../utils/failover/fakes.js";
import { tempDir } from "../../../utils/stores.js";

const validator = { type: "ed25519" as const, address: "AB".repeat(20) };

/**
 * Issue 14 defect 2: the self-stop wrote the dummy key first and stopped the node only after; a key file
 * that could not be written (ENOSPC, EROFS, EIO, a hung filesystem) left the node running. The node is
 * stopped first; the key write after it never prevents or delays the stop.
 */
describe("LocalNode.stop", () => {
  it("stops the node even when the key file cannot be written", async () => {
    const t = tempDir("sg-localnode-");
    try {
      const node = new FakeNode();
      node.running = true;
      // the key file's directory is gone: every write fails (as with a full or read-only disk)
      const local = new LocalNode(join(t.dir, "missing", "key.json"), validator, node);
      await local.stop();
      expect(node.ops).toEqual(["stop"]);
      expect(node.running).toBe(false);
      expect(local.running).toBe(false);
      expect(local.fileKey).toBe("unknown");
    } finally {
      t.cleanup();
    }
  });

  it("a hung key write neither delays the stop nor hangs the stop call", async () => {
    const node = new FakeNode();
    node.running = true;
    const local = new LocalNode("/key.json", validator, node, {
      keys: { address: async () => null, install: () => new Promise(() => {}) },
      keyWriteTimeoutMs: 20,
    });
    await local.stop();
    expect(node.ops).toEqual(["stop"]);
    expect(local.fileKey).toBe("unknown");
  });

  it("a failed stop still tries the dummy key, then reports the failure", async () => {
    const node = new FakeNode();
    node.running = true;
    node.failStop = true;
    const written: string[] = [];
    const local = new LocalNode("/key.json", validator, node, {
      keys: { address: async () => null, install: async (p) => void written.push(p) },
    });
    await expect(local.stop()).rejects.toThrow();
    expect(written).toEqual(["/key.json"]);
    expect(local.fileKey).toBe("dummy");
  });

  it("issue 14 defect 6: a node being started is running, never stopped, even if a probe saw it down", async () => {
    const node = new FakeNode();
    let release = (): void => {};
    node.startGate = new Promise((r) => {
      release = r;
    });
    const local = new LocalNode("/key.json", validator, node, {
      keys: { address: async () => null, install: async () => {} },
    });
    const started = local.startValidator();
    expect(local.starting).toBe(true);
    await local.probe(); // the fake node is not up yet
    expect(local.running).toBe(true);
    release();
    await started;
    expect(local.starting).toBe(false);
    expect(local.loadedKey).toBe("validator");
  });
});
