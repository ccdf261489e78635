import type { KeyRow } from "../api/types.js";
import { encodeKeys, transferables } from "./keyColumns.js";
import type { Facets, KeyQuery } from "./keyQuery.js";
import type { KeyWorkerRequest, KeyWorkerResponse } from "./keyWorkerProtocol.js";

/** A Worker, or anything that speaks to one the same way (tests use an in-process port). */
export interface PortLike {
  postMessage(m: KeyWorkerRequest, transfer: Transferable[]): void;
  onmessage: ((e: { data: KeyWorkerResponse }) => void) | null;
  terminate(): void;
}

export function startKeyWorker(): PortLike {
  return new Worker(new URL("./keyWorker.ts", import.meta.url), { type: "module", name: "keys" }) as PortLike;
}

/**
 * Filtering and sorting of the key table, run in a Web Worker so that typing in the search box never
 * waits for 10,000 rows to be scanned. Only the newest query's answer is delivered: an answer that
 * was overtaken by a newer query, or that belongs to data replaced since, resolves null.
 */
export class KeyIndex {
  private gen = 0;
  private nextId = 0;
  private latest = -1;
  private readonly queries = new Map<number, (r: Int32Array | null) => void>();
  private readonly loads = new Map<number, (f: Facets) => void>();

  constructor(private readonly port: PortLike) {
    port.onmessage = (e) => this.receive(e.data);
  }

  load(rows: readonly KeyRow[]): Promise<Facets> {
    const gen = ++this.gen;
    const keys = encodeKeys(rows);
    return new Promise((resolve) => {
      this.loads.set(gen, resolve);
      this.port.postMessage({ type: "load", gen, keys }, transferables(keys));
    });
  }

  query(query: KeyQuery): Promise<Int32Array | null> {
    const id = this.nextId++;
    this.latest = id;
    return new Promise((resolve) => {
      this.queries.set(id, resolve);
      this.port.postMessage({ type: "query", id, gen: this.gen, query }, []);
    });
  }

  close(): void {
    this.port.terminate();
    for (const r of this.queries.values()) r(null);
    this.queries.clear();
  }

  private receive(m: KeyWorkerResponse): void {
    if (m.type === "loaded") {
      this.loads.get(m.gen)?.(m.facets);
      this.loads.delete(m.gen);
      return;
    }
    const resolve = this.queries.get(m.id);
    this.queries.delete(m.id);
    resolve?.(m.id === this.latest && m.gen === this.gen ? m.indices : null);
  }
}
