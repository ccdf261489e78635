/**
 * BLS signing worker: holds secret keys by numeric id and signs batches of 32-byte roots. The keys
 * never leave this thread once loaded; answers carry signatures only.
 */
import { parentPort } from "node:worker_threads";
import blst from "@chainsafe/blst";
import { weightSecret } from "./threshold/blsThreshold.js";

export type WorkerRequest =
  /** `secrets` holds 32 bytes per id, in the order of `ids` (one buffer, not one object per key). */
  | { t: "add"; ids: Uint32Array; secrets: Uint8Array }
  | { t: "remove"; ids: number[] }
  | { t: "sign"; batch: number; ids: Uint32Array; roots: Uint8Array; weights: Uint8Array | null };

export type WorkerResponse =
  | { t: "signed"; batch: number; sigs: Uint8Array; missing: number[] }
  | { t: "error"; batch: number; message: string };

/**
 * Secret keys packed 32 bytes apart in one buffer, a slot per id: a blst SecretKey object costs about
 * 450 bytes of memory and one per key per worker added up at 100,000 keys; deserialising the 32 bytes
 * at signing costs about a microsecond against a signature's few hundred.
 */
let slab = new Uint8Array(32 * 1024);
const slotOf = new Map<number, number>();
const freeSlots: number[] = [];
let usedSlots = 0;

function put(id: number, secret: Uint8Array): void {
  blst.SecretKey.fromBytes(secret); // refuses an invalid key now, as keeping a SecretKey did
  let slot = slotOf.get(id) ?? freeSlots.pop();
  if (slot === undefined) {
    slot = usedSlots++;
    if (32 * usedSlots > slab.length) {
      const bigger = new Uint8Array(slab.length * 2);
      bigger.set(slab);
      slab.fill(0);
      slab = bigger;
    }
  }
  slab.set(secret, 32 * slot);
  slotOf.set(id, slot);
}

function secretOf(id: number): Uint8Array | undefined {
  const slot = slotOf.get(id);
  return slot === undefined ? undefined : slab.subarray(32 * slot, 32 * slot + 32);
}

parentPort?.on("message", (m: WorkerRequest) => {
  if (m.t === "add") {
    for (let i = 0; i < m.ids.length; i++) put(m.ids[i]!, m.secrets.subarray(32 * i, 32 * i + 32));
    m.secrets.fill(0);
    return;
  }
  if (m.t === "remove") {
    for (const id of m.ids) {
      const slot = slotOf.get(id);
      if (slot === undefined) continue;
      slab.fill(0, 32 * slot, 32 * slot + 32);
      slotOf.delete(id);
      freeSlots.push(slot);
    }
    return;
  }
  try {
    const sigs = new Uint8Array(96 * m.ids.length);
    const missing: number[] = [];
    for (let i = 0; i < m.ids.length; i++) {
      const secret = secretOf(m.ids[i]!);
      if (secret === undefined) {
        missing.push(i);
        continue;
      }
      const root = m.roots.subarray(i * 32, i * 32 + 32);
      const w = m.weights?.subarray(i * 32, i * 32 + 32);
      // threshold share: secret·weight, so the requester's combination is a plain aggregation
      const signer = blst.SecretKey.fromBytes(
        w === undefined || w.every((b) => b === 0) ? secret : weightSecret(secret, w),
      );
      sigs.set(signer.sign(root).toBytes(), i * 96);
    }
    const res: WorkerResponse = { t: "signed", batch: m.batch, sigs, missing };
    parentPort!.postMessage(res, [sigs.buffer]);
  } catch (e) {
    const res: WorkerResponse = { t: "error", batch: m.batch, message: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage(res);
  }
});
