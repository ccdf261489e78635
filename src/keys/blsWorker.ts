/**
 * BLS signing worker: holds secret keys by numeric id and signs batches of 32-byte roots. The keys
 * never leave this thread once loaded; answers carry signatures only.
 */
import { parentPort } from "node:worker_threads";
import blst from "@chainsafe/blst";
import { weightSecret } from "./threshold/blsThreshold.js";

export type WorkerRequest =
  | { t: "add"; keys: { id: number; secret: Uint8Array }[] }
  | { t: "remove"; ids: number[] }
  | { t: "sign"; batch: number; ids: Uint32Array; roots: Uint8Array; weights: Uint8Array | null };

export type WorkerResponse =
  | { t: "signed"; batch: number; sigs: Uint8Array; missing: number[] }
  | { t: "error"; batch: number; message: string };

const keys = new Map<number, blst.SecretKey>();

parentPort?.on("message", (m: WorkerRequest) => {
  if (m.t === "add") {
    for (const k of m.keys) {
      keys.set(k.id, blst.SecretKey.fromBytes(k.secret));
      k.secret.fill(0);
    }
    return;
  }
  if (m.t === "remove") {
    for (const id of m.ids) keys.delete(id);
    return;
  }
  try {
    const sigs = new Uint8Array(96 * m.ids.length);
    const missing: number[] = [];
    for (let i = 0; i < m.ids.length; i++) {
      const sk = keys.get(m.ids[i]!);
      if (sk === undefined) {
        missing.push(i);
        continue;
      }
      const root = m.roots.subarray(i * 32, i * 32 + 32);
      const w = m.weights?.subarray(i * 32, i * 32 + 32);
      // threshold share: secret·weight, so the requester's combination is a plain aggregation
      const signer =
        w === undefined || w.every((b) => b === 0) ? sk : blst.SecretKey.fromBytes(weightSecret(sk.toBytes(), w));
      sigs.set(signer.sign(root).toBytes(), i * 96);
    }
    const res: WorkerResponse = { t: "signed", batch: m.batch, sigs, missing };
    parentPort!.postMessage(res, [sigs.buffer]);
  } catch (e) {
    const res: WorkerResponse = { t: "error", batch: m.batch, message: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage(res);
  }
});
