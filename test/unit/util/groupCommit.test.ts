import { describe, expect, it } from "vitest";
import { CommonErrorCode } from "../../../src/util/errors.js";
import { GroupCommit } from "../../../src/util/groupCommit.js";

describe("GroupCommit", () => {
  it("decides concurrent requests in batches, in arrival order per shard", async () => {
    const batches: number[][] = [];
    const gc = new GroupCommit<number, number>({ maxBatch: 100 }, async (batch) => {
      batches.push(batch);
      return batch.map((v) => ({ ok: true as const, value: v * 2 }));
    });
    const answers = await Promise.all([1, 2, 3, 4].map((v) => gc.submit(v)));
    expect(answers).toEqual([2, 4, 6, 8]);
    expect(batches.flat()).toEqual([1, 2, 3, 4]);
    expect(batches.length).toBeLessThan(4);
  });

  it("after close, a request is refused with a typed shutting-down error and never reaches the flush", async () => {
    let flushed = 0;
    const gc = new GroupCommit<number, number>({ maxBatch: 10 }, async (batch) => {
      flushed += batch.length;
      return batch.map((v) => ({ ok: true as const, value: v }));
    });
    const before = gc.submit(1);
    await gc.close();
    await expect(before).resolves.toBe(1);
    await expect(gc.submit(2)).rejects.toMatchObject({ code: CommonErrorCode.ShuttingDown });
    expect(flushed).toBe(1);
  });
});
