import { decodeKeys, type KeyColumns } from "./keyColumns.js";
import { type Facets, facetsOf, type KeyQuery, type KeyRecord, queryKeys } from "./keyQuery.js";

/** Messages to the key worker. `gen` numbers each loaded data set, so a result always names its data. */
export type KeyWorkerRequest =
  | { type: "load"; gen: number; keys: KeyColumns }
  | { type: "query"; id: number; gen: number; query: KeyQuery };

export type KeyWorkerResponse =
  | { type: "loaded"; gen: number; facets: Facets }
  | { type: "result"; id: number; gen: number; indices: Int32Array };

/**
 * The worker's side, apart from the worker itself so tests run it in-process: it keeps the last data
 * set and answers queries with row indices (transferred, not copied).
 */
export function keyWorkerHandler(
  post: (m: KeyWorkerResponse, transfer: Transferable[]) => void,
): (req: KeyWorkerRequest) => void {
  let rows: KeyRecord[] = [];
  let gen = -1;
  return (req) => {
    if (req.type === "load") {
      rows = decodeKeys(req.keys);
      gen = req.gen;
      post({ type: "loaded", gen, facets: facetsOf(rows) }, []);
      return;
    }
    // A query for a data set that is not loaded (yet or any more) answers nothing: the client drops it.
    const indices = req.gen === gen ? queryKeys(rows, req.query) : new Int32Array(0);
    post({ type: "result", id: req.id, gen: req.gen === gen ? gen : -1, indices }, [indices.buffer]);
  };
}
