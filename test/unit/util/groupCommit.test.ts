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

  it("with overlap, the next batch starts at the handoff, never before; at most `overlap` run at once", async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const gc = new GroupCommit<number, number>({ maxBatch: 2, overlap: 2 }, async (batch, handoff) => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${batch.join(",")}`);
      await new Promise<void>((r) => gates.push(r)); // "locks held" when the test says so
      log.push(`handoff ${batch.join(",")}`);
      handoff();
      await new Promise<void>((r) => gates.push(r)); // "committed"
      running--;
      return batch.map((v) => ({ ok: true as const, value: v }));
    });
    const answers = Promise.all([1, 2, 3, 4, 5, 6].map((v) => gc.submit(v)));
    const tick = () => new Promise((r) => setTimeout(r, 5));
    await tick();
    expect(log).toEqual(["start 1,2"]); // the second batch waits for the first one's handoff
    gates.shift()!(); // batch 1 holds its locks
    await tick();
    expect(log).toEqual(["start 1,2", "handoff 1,2", "start 3,4"]);
    gates.shift()!(); // batch 1 commits
    gates.shift()!(); // batch 2 holds its locks
    await tick();
    expect(log.slice(3)).toEqual(["handoff 3,4", "start 5,6"]);
    while (gates.length > 0) {
      gates.shift()!();
      await tick();
    }
    await expect(answers).resolves.toEqual([1, 2, 3, 4, 5, 6]);
    expect(most).toBe(2);
  });

  it("with overlap, a batch that fails before its handoff lets the next one start, and only its own requests fail", async () => {
    const gc = new GroupCommit<number, number>({ maxBatch: 1, overlap: 2 }, async (batch, handoff) => {
      if (batch[0] === 1) throw new Error("lock statement failed");
      handoff();
      return batch.map((v) => ({ ok: true as const, value: v }));
    });
    const [a, b] = await Promise.allSettled([gc.submit(1), gc.submit(2)]);
    expect(a.status).toBe("rejected");
    expect(b).toEqual({ status: "fulfilled", value: 2 });
    await gc.close();
  });

  it("without overlap, the next batch starts only when the one before has ended", async () => {
    const log: string[] = [];
    const gc = new GroupCommit<number, number>({ maxBatch: 1 }, async (batch, handoff) => {
      log.push(`start ${batch[0]}`);
      handoff(); // ignored: one flush at a time
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${batch[0]}`);
      return batch.map((v) => ({ ok: true as const, value: v }));
    });
    await Promise.all([1, 2].map((v) => gc.submit(v)));
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2"]);
  });
});
