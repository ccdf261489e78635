import type { AttestationRequest, BlockRequest } from "../../src/chains/ethereum/protectionTypes.js";

export const GVR0 = new Uint8Array(32);
/** A distinct 32-byte root for every n (the same bytes as ROOT_HEX(n) in interchange.ts). */
export const root = (n: number): Uint8Array => new Uint8Array(Buffer.from(n.toString(16).padStart(64, "0"), "hex"));

export function pubkey(n: number): Uint8Array {
  const p = new Uint8Array(48);
  p[0] = 0xa0;
  new DataView(p.buffer).setUint32(44, n);
  return p;
}

export const att = (
  key: Uint8Array,
  source: number | bigint,
  target: number | bigint,
  r: number | null,
): AttestationRequest => ({
  kind: "attestation",
  pubkey: key,
  source: BigInt(source),
  target: BigInt(target),
  signingRoot: r === null ? null : root(r),
});

export const blk = (key: Uint8Array, slot: number | bigint, r: number | null): BlockRequest => ({
  kind: "block",
  pubkey: key,
  slot: BigInt(slot),
  signingRoot: r === null ? null : root(r),
});

/** Settles every promise and returns outcomes or error codes. */
export async function outcomes(ps: Promise<unknown>[]): Promise<string[]> {
  const rs = await Promise.allSettled(ps);
  return rs.map((r) =>
    r.status === "fulfilled" ? String(r.value) : String((r.reason as { code?: string }).code ?? r.reason),
  );
}
