import { afterEach, describe, expect, it } from "vitest";
import { cometSignStateRepository as repo } from "../../../src/store/cometbft/cometSignStateRepository.js";
import { StoreError } from "../../../src/store/errors.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const pk = new Uint8Array(32).fill(5);
const sig = new Uint8Array(64).fill(1);

describe.each(ENGINES)("cometSignStateRepository on %s", (engine) => {
  let ts: TestStore;
  afterEach(async () => ts?.dispose());

  it("registers once per (chain id, key); advance only moves forward (the backstop of the lock)", async () => {
    ts = await openTestStore(engine);
    const id = await ts.store.tx((tx) => repo.register(tx, "c1", pk));
    expect(await ts.store.tx((tx) => repo.register(tx, "c1", pk))).toBe(id);
    expect(await ts.store.tx((tx) => repo.register(tx, "c2", pk))).not.toBe(id);
    const move = (height: bigint, round: number, step: number) =>
      ts.store.tx((tx) => repo.advance(tx, { id, height, round, step, signBytes: Uint8Array.of(1), signature: sig }));
    expect(await move(10n, 0, 2)).toBe(true);
    expect(await move(10n, 0, 2)).toBe(false);
    expect(await move(10n, 0, 1)).toBe(false);
    expect(await move(9n, 5, 3)).toBe(false);
    expect(await move(10n, 1, 1)).toBe(true);
    const max = (1n << 63n) - 1n;
    expect(await move(max, 0, 1)).toBe(true);
    const row = await ts.store.tx((tx) => repo.find(tx, "c1", pk));
    expect(row).toMatchObject({ height: max, round: 0, step: 1, signature: sig });
  });

  it("constraints refuse half a state (sign bytes without a signature) and bad steps", async () => {
    ts = await openTestStore(engine);
    const id = await ts.store.tx((tx) => repo.register(tx, "c1", pk));
    await expect(
      ts.store.tx((tx) =>
        repo.advance(tx, { id, height: 1n, round: 0, step: 2, signBytes: Uint8Array.of(1), signature: null }),
      ),
    ).rejects.toBeInstanceOf(StoreError);
    await expect(
      ts.store.tx((tx) => repo.advance(tx, { id, height: 1n, round: 0, step: 4, signBytes: null, signature: null })),
    ).rejects.toBeInstanceOf(StoreError);
    expect((await ts.store.tx((tx) => repo.find(tx, "c1", pk)))?.height).toBe(0n);
  });
});
