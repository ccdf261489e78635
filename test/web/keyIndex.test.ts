import { describe, expect, it } from "vitest";
import { decodeKeys, encodeKeys, transferables } from "../../web/src/keys/keyColumns.js";
import { KeyIndex } from "../../web/src/keys/keyIndex.js";
import { DEFAULT_QUERY, toRecord } from "../../web/src/keys/keyQuery.js";
import type { KeyWorkerRequest } from "../../web/src/keys/keyWorkerProtocol.js";
import { keyRow } from "./fakeApi.js";
import { inProcessPort } from "./inProcessPort.js";

describe("KeyIndex: the table's side of the worker", () => {
  const data = Array.from({ length: 10_000 }, (_, i) => keyRow(i));

  it("loads rows, answers queries with indices and transfers their buffer", async () => {
    const port = inProcessPort();
    const index = new KeyIndex(port);
    const facets = await index.load(data);
    expect(facets.total).toBe(10_000);
    const ix = await index.query({ ...DEFAULT_QUERY, chain: "harmony" });
    expect(ix).not.toBeNull();
    expect(ix!.length).toBe(data.filter((r) => r.chain === "harmony").length);
    expect(port.transferred).toHaveLength(1);
    // The rows went over as columns: four typed arrays moved, not copied (detached on this side).
    const load = port.requests[0] as Extract<KeyWorkerRequest, { type: "load" }>;
    expect(load.keys.n).toBe(10_000);
  });

  it("only the newest query is answered: one overtaken while typing resolves null", async () => {
    const index = new KeyIndex(inProcessPort());
    void index.load(data);
    const typed = ["0x0", "0x00", "0x000", "0x0001"].map((prefix) => index.query({ ...DEFAULT_QUERY, prefix }));
    const results = await Promise.all(typed);
    expect(results.slice(0, 3)).toEqual([null, null, null]);
    expect(results[3]!.length).toBe(data.filter((r) => r.pubkey.startsWith("0x0001")).length);
    expect(results[3]!.length).toBeGreaterThan(0);
  });

  it("a query for data that was replaced since resolves null; the next one sees the new data", async () => {
    const index = new KeyIndex(inProcessPort());
    await index.load(data);
    const old = index.query(DEFAULT_QUERY);
    void index.load(data.slice(0, 10));
    expect(await old).toBeNull();
    expect((await index.query(DEFAULT_QUERY))!.length).toBe(10);
  });

  it("after close, pending queries resolve null", async () => {
    const index = new KeyIndex(inProcessPort());
    void index.load(data);
    const q = index.query(DEFAULT_QUERY);
    index.close();
    expect(await q).toBeNull();
  });
});

describe("key columns (the rows' trip to the worker)", () => {
  it("decode(encode(rows)) gives the records the table filters, and the arrays are moved", () => {
    const rows = Array.from({ length: 1000 }, (_, i) =>
      keyRow(i, i % 11 === 0 ? { chain: "cometbft", host: `h-${i % 9}`, host_id: 100 + (i % 9) } : {}),
    );
    const cols = encodeKeys(rows);
    expect(cols.chains).toEqual(["cometbft", "ethereum", "harmony"]); // each name once, in order of first use
    const moved = structuredClone(cols, { transfer: transferables(cols) });
    expect(cols.hostIds.length).toBe(0); // detached: nothing was copied
    expect(decodeKeys(moved)).toEqual(rows.map(toRecord));
    expect(decodeKeys(encodeKeys([]))).toEqual([]);
  });
});
