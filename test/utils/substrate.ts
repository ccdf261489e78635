import type { BlockProposal } from "../../src/chains/substrate/types.js";

export const hexToBytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/^0x/, ""), "hex"));
export const bytesToHex = (b: Uint8Array): string => `0x${Buffer.from(b).toString("hex")}`;

/** BlockProposal as the vectors write it (hex strings, decimal number). */
export interface BlockProposalJson {
  parent_hash: string;
  number: string;
  state_root: string;
  extrinsics_root: string;
  digest: string;
}

export function proposalFromJson(j: BlockProposalJson): BlockProposal {
  return {
    parentHash: hexToBytes(j.parent_hash),
    number: BigInt(j.number),
    stateRoot: hexToBytes(j.state_root),
    extrinsicsRoot: hexToBytes(j.extrinsics_root),
    digest: hexToBytes(j.digest),
  };
}

export const DEV_ALICE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk//Alice";

/** A public key for protection tests: not a real key, just 32 distinct bytes. */
export function fakeKey(n: number): Uint8Array {
  const k = new Uint8Array(32);
  k[0] = 0xd4;
  new DataView(k.buffer).setUint32(28, n);
  return k;
}

export async function outcomes(ps: Promise<unknown>[]): Promise<string[]> {
  const rs = await Promise.allSettled(ps);
  return rs.map((r) =>
    r.status === "fulfilled" ? String(r.value) : String((r.reason as { code?: string }).code ?? r.reason),
  );
}
