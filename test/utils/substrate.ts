import { blake2_256, encodeHeader } from "../../src/chains/substrate/babe.js";
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

/**
 * A BABE seal request for `slot`: the pre-seal header (its digest carries a BABE pre-digest naming the
 * slot), the 32-byte header hash a seal signs, and the wire payload that lets the signer check it.
 */
export function sealRequest(
  slot: bigint,
  parent: number,
): { message: Buffer; payload: { block_proposal: Record<string, unknown> }; proposal: BlockProposal } {
  const digest = new Uint8Array([0x04, 0x06, ...Buffer.from("BABE"), 0x34, 0x02, 7, 0, 0, 0, ...new Uint8Array(8)]);
  new DataView(digest.buffer).setBigUint64(digest.length - 8, slot, true);
  const proposal: BlockProposal = {
    parentHash: new Uint8Array(32).fill(parent),
    number: 1000n,
    stateRoot: new Uint8Array(32).fill(2),
    extrinsicsRoot: new Uint8Array(32).fill(3),
    digest,
  };
  const payload = {
    block_proposal: {
      parent_hash: Buffer.from(proposal.parentHash),
      number: "1000",
      state_root: Buffer.from(proposal.stateRoot),
      extrinsics_root: Buffer.from(proposal.extrinsicsRoot),
      digest: Buffer.from(digest),
    },
  };
  return { message: Buffer.from(blake2_256(encodeHeader(proposal))), payload, proposal };
}
