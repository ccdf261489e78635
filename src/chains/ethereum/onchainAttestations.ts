import { BadRequestError } from "../../util/errors.js";
import type { ForkVersions, OnchainAttestation } from "./beaconParse.js";
import { computeDomain, computeSigningRoot, DomainType } from "./domain.js";
import type { EthSszTypes } from "./sszTypes.js";

/** Committee members by (slot, committee index). */
export type CommitteeLookup = (slot: bigint, index: bigint) => Float64Array | undefined;

/** Set positions of an SSZ Bitlist (little-endian bits; the highest set bit marks the length). */
export function bitlistPositions(bits: Uint8Array): { length: number; set: number[] } {
  const last = bits[bits.length - 1] ?? 0;
  if (last === 0) throw new BadRequestError("bitlist has no length bit", "aggregation_bits");
  const length = (bits.length - 1) * 8 + (31 - Math.clz32(last));
  const set: number[] = [];
  for (let i = 0; i < length; i++) if ((bits[i >> 3]! >> (i & 7)) & 1) set.push(i);
  return { length, set };
}

/** Set positions of an SSZ Bitvector. */
function bitvectorPositions(bits: Uint8Array): number[] {
  const set: number[] = [];
  for (let i = 0; i < bits.length * 8; i++) if ((bits[i >> 3]! >> (i & 7)) & 1) set.push(i);
  return set;
}

/**
 * Validator indices whose signatures an on-chain attestation aggregates. Before Electra the bits
 * cover the committee `data.index`; from Electra on they cover the committees named by
 * `committee_bits`, one after the other. Bits that do not fit the committees are malformed.
 */
export function attestingIndices(a: OnchainAttestation, committees: CommitteeLookup): number[] {
  const { length, set } = bitlistPositions(a.aggregationBits);
  const members: Float64Array[] = [];
  const indexes = a.committeeBits === null ? [a.data.index] : bitvectorPositions(a.committeeBits).map(BigInt);
  for (const ci of indexes) {
    const c = committees(a.data.slot, ci);
    if (c === undefined) throw new BadRequestError(`no committee ${ci} at slot ${a.data.slot}`, "committee");
    members.push(c);
  }
  const total = members.reduce((n, c) => n + c.length, 0);
  if (total !== length)
    throw new BadRequestError("aggregation bits do not match the committee size", "aggregation_bits");
  const out: number[] = [];
  let base = 0;
  let k = 0;
  for (const c of members) {
    while (k < set.length && set[k]! < base + c.length) out.push(c[set[k++]! - base]!);
    base += c.length;
  }
  return out;
}

function forkVersionAt(fork: ForkVersions, epoch: bigint): Uint8Array {
  return epoch < fork.epoch ? fork.previousVersion : fork.currentVersion;
}

/** The root a validator signs for this attestation data (domain of its target epoch). */
export function attestationSigningRoot(
  t: EthSszTypes,
  a: OnchainAttestation,
  fork: ForkVersions,
  genesisValidatorsRoot: Uint8Array,
): Uint8Array {
  let value: unknown;
  try {
    value = t.attestationData.fromJson(a.data.json);
  } catch (e) {
    throw new BadRequestError(`attestation data is malformed: ${e instanceof Error ? e.message : String(e)}`, "data");
  }
  const domain = computeDomain(
    t,
    DomainType.beaconAttester,
    forkVersionAt(fork, a.data.targetEpoch),
    genesisValidatorsRoot,
  );
  return computeSigningRoot(t, t.attestationData.hashTreeRoot(value), domain);
}

/** The root a proposer signs for a block (the block root is the header's hash tree root). */
export function blockSigningRoot(
  t: EthSszTypes,
  blockRoot: Uint8Array,
  epoch: bigint,
  fork: ForkVersions,
  genesisValidatorsRoot: Uint8Array,
): Uint8Array {
  const domain = computeDomain(t, DomainType.beaconProposer, forkVersionAt(fork, epoch), genesisValidatorsRoot);
  return computeSigningRoot(t, blockRoot, domain);
}
