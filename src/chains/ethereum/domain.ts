import type { EthSszTypes } from "./sszTypes.js";

/** Domain types of the consensus specs (4 bytes each). Kept here so no preset-dependent module is loaded early. */
export const DomainType = {
  beaconProposer: Uint8Array.of(0, 0, 0, 0),
  beaconAttester: Uint8Array.of(1, 0, 0, 0),
  randao: Uint8Array.of(2, 0, 0, 0),
  deposit: Uint8Array.of(3, 0, 0, 0),
  voluntaryExit: Uint8Array.of(4, 0, 0, 0),
  selectionProof: Uint8Array.of(5, 0, 0, 0),
  aggregateAndProof: Uint8Array.of(6, 0, 0, 0),
  syncCommittee: Uint8Array.of(7, 0, 0, 0),
  syncCommitteeSelectionProof: Uint8Array.of(8, 0, 0, 0),
  contributionAndProof: Uint8Array.of(9, 0, 0, 0),
  applicationBuilder: Uint8Array.of(0, 0, 0, 1),
} as const;

// A signer sees a handful of (domain type, fork version, genesis root) triples; hashing ForkData for
// every request would cost two SHA-256 tree hashes each time.
const domains = new Map<string, Uint8Array>();
const MAX_CACHED_DOMAINS = 256;

/** compute_domain: domain type ++ first 28 bytes of hash_tree_root(ForkData(fork version, genesis validators root)). */
export function computeDomain(
  t: EthSszTypes,
  domainType: Uint8Array,
  forkVersion: Uint8Array,
  gvr: Uint8Array,
): Uint8Array {
  const key = Buffer.concat([domainType, forkVersion, gvr]).toString("hex");
  const hit = domains.get(key);
  if (hit !== undefined) return hit;
  const forkDataRoot = t.forkData.hashTreeRoot({ currentVersion: forkVersion, genesisValidatorsRoot: gvr });
  const d = new Uint8Array(32);
  d.set(domainType, 0);
  d.set(forkDataRoot.subarray(0, 28), 4);
  if (domains.size >= MAX_CACHED_DOMAINS) domains.clear();
  domains.set(key, d);
  return d;
}

/** compute_signing_root: hash_tree_root(SigningData(object root, domain)). */
export function computeSigningRoot(t: EthSszTypes, objectRoot: Uint8Array, domain: Uint8Array): Uint8Array {
  return t.signingData.hashTreeRoot({ objectRoot, domain });
}
