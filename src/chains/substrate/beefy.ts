import { keccak_256 } from "@noble/hashes/sha3.js";
import { SubstrateError, SubstrateErrorCode } from "./errors.js";
import { ScaleReader } from "./scale.js";
import type { BeefyRecord } from "./types.js";

/**
 * A BEEFY vote signs keccak_256(SCALE(Commitment {payload: Vec<([u8; 2], Vec<u8>)>, block_number,
 * validator_set_id u64})) with ecdsa_sign_prehashed: the signer sees only the hash, so protection needs
 * the commitment itself. Requires keccak_256(commitment) == prehash and reads (set id, block number).
 * The block number is u32 on Polkadot; 8 bytes left before the set id mean a u64 block number.
 */
export function checkBeefyCommitment(prehash: Uint8Array, commitment: Uint8Array): BeefyRecord {
  const r = new ScaleReader(commitment, "BEEFY commitment");
  const n = r.compact("payload length");
  for (let i = 0n; i < n; i++) {
    r.fixed(2, "payload id");
    r.vecU8("payload data");
  }
  let blockNumber: bigint;
  if (r.remaining === 12) blockNumber = BigInt(r.u32("block number"));
  else if (r.remaining === 16) blockNumber = r.u64("block number");
  else throw r.malformed("expected a block number (u32 or u64) and a validator set id (u64) after the payload");
  const setId = r.u64("validator set id");
  r.end();
  const hash = keccak_256(commitment);
  if (prehash.length !== 32 || Buffer.compare(hash, prehash) !== 0) {
    throw new SubstrateError({
      code: SubstrateErrorCode.PayloadMismatch,
      detail: "the prehash is not keccak_256 of payload.beefy_commitment",
    });
  }
  return { kind: "beefy", setId, blockNumber, commitmentHash: hash };
}
