import { SubstrateError, SubstrateErrorCode } from "./errors.js";
import { concatBytes, ScaleReader, u32le, u64le } from "./scale.js";
import { type GrandpaRecord, GrandpaStage } from "./types.js";

/** Polkadot: H256 hashes and u32 block numbers give 53 bytes; chains with u64 block numbers give 57. */
const GRANDPA_PAYLOAD_U32 = 53;
const GRANDPA_PAYLOAD_U64 = 57;

/**
 * Decodes the localized payload a GRANDPA voter signs, SCALE((Message, round u64, set_id u64)) with
 * Message = Prevote | Precommit | PrimaryPropose {target_hash H256, target_number}. The message alone
 * says what is signed, so GRANDPA protection needs nothing from the node beyond it.
 */
export function decodeGrandpaPayload(message: Uint8Array): GrandpaRecord {
  if (message.length !== GRANDPA_PAYLOAD_U32 && message.length !== GRANDPA_PAYLOAD_U64) {
    throw new SubstrateError(
      { code: SubstrateErrorCode.Malformed, what: "GRANDPA payload" },
      `GRANDPA payload must be ${GRANDPA_PAYLOAD_U32} or ${GRANDPA_PAYLOAD_U64} bytes (SCALE of message, round, set id), got ${message.length}`,
    );
  }
  const r = new ScaleReader(message, "GRANDPA payload");
  const tag = r.u8("message kind");
  if (tag > GrandpaStage.PrimaryPropose) throw r.malformed(`unknown message kind ${tag}`);
  const targetHash = r.fixed(32, "target hash").slice();
  const targetNumber = message.length === GRANDPA_PAYLOAD_U32 ? BigInt(r.u32("target number")) : r.u64("target number");
  const round = r.u64("round");
  const setId = r.u64("set id");
  r.end();
  return { kind: "grandpa", stage: tag as GrandpaStage, targetHash, targetNumber, round, setId };
}

/** The payload for a vote (tests, benchmarks, and checking what a node's GrandpaMessage claims). */
export function encodeGrandpaPayload(v: Omit<GrandpaRecord, "kind">, numberBytes: 4 | 8 = 4): Uint8Array {
  if (v.targetHash === null || v.targetNumber === null) throw new RangeError("a vote needs a target");
  return concatBytes(
    Uint8Array.of(v.stage),
    v.targetHash,
    numberBytes === 4 ? u32le(Number(v.targetNumber)) : u64le(v.targetNumber),
    u64le(v.round),
    u64le(v.setId),
  );
}
