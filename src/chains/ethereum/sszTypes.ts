import {
  ContainerNodeStructType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  ListUintNum64Type,
  type Type,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import { StrictUintBigintType, StrictUintNumberType } from "./sszStrictUint.js";

export type Preset = "mainnet" | "minimal";

/**
 * The SSZ types a remote signer hashes, with every uint64 as bigint: lodestar's types hold slots and
 * epochs as JS numbers (exact only below 2^53), but a signing request may carry any u64 and must be
 * hashed exactly or refused, never rounded.
 */
export interface EthSszTypes {
  preset: Preset;
  slotsPerEpoch: bigint;
  uint64: Type<bigint>;
  root: Type<Uint8Array>;
  forkData: Type<unknown>;
  signingData: Type<unknown>;
  attestationData: Type<unknown>;
  beaconBlockHeader: Type<unknown>;
  voluntaryExit: Type<unknown>;
  syncAggregatorSelectionData: Type<unknown>;
  contributionAndProof: Type<unknown>;
  validatorRegistration: Type<unknown>;
  depositMessage: Type<unknown>;
  /** Full blocks and aggregates by fork name (phase0 … fulu). */
  beaconBlock: Record<string, Type<unknown>>;
  aggregateAndProof: Record<string, Type<unknown>>;
}

// biome-ignore lint/suspicious/noExplicitAny: SSZ type trees are heterogeneous by nature
type AnyType = Type<any>;

/**
 * Rebuilds an SSZ type tree with 8-byte unsigned integers as bigint and every unsigned integer read
 * strictly from JSON (sszStrictUint.ts); hash roots are unchanged.
 */
function bigintify(t: AnyType, seen = new Map<AnyType, AnyType>()): AnyType {
  const cached = seen.get(t);
  if (cached !== undefined) return cached;
  let out: AnyType = t;
  if (t instanceof StrictUintBigintType || t instanceof StrictUintNumberType) out = t;
  else if (t instanceof UintNumberType)
    out = t.byteLength === 8 ? new StrictUintBigintType(8) : new StrictUintNumberType(t.byteLength as 1 | 2 | 4);
  else if (t instanceof UintBigintType) out = new StrictUintBigintType(t.byteLength);
  else if (t instanceof ListUintNum64Type) out = new ListBasicType(new StrictUintBigintType(8), t.limit);
  else if (t instanceof ContainerType || t instanceof ContainerNodeStructType) {
    // biome-ignore lint/suspicious/noExplicitAny: rebuilt field by field
    const c = t as ContainerType<any>;
    const fields = Object.fromEntries(Object.entries(c.fields).map(([k, f]) => [k, bigintify(f as AnyType, seen)]));
    out = new ContainerType(fields, c.opts);
  } else if (t instanceof ListCompositeType)
    out = new ListCompositeType(bigintify(t.elementType, seen) as never, t.limit);
  else if (t instanceof VectorCompositeType)
    out = new VectorCompositeType(bigintify(t.elementType, seen) as never, t.length);
  else if (t instanceof ListBasicType) out = new ListBasicType(bigintify(t.elementType, seen) as never, t.limit);
  else if (t instanceof VectorBasicType) out = new VectorBasicType(bigintify(t.elementType, seen) as never, t.length);
  seen.set(t, out);
  return out;
}

let loaded: EthSszTypes | null = null;

/**
 * SHA-256 for SSZ hashing: the native hashtree binding (about 2.5× the default pure-JS hasher per
 * signing request), else the WebAssembly one where no binary exists for the platform. The roots are
 * the same; only the speed differs.
 */
async function installFastHasher(): Promise<void> {
  const { setHasher } = await import("@chainsafe/persistent-merkle-tree");
  try {
    setHasher((await import("@chainsafe/persistent-merkle-tree/hasher/hashtree")).hasher);
  } catch {
    setHasher((await import("@chainsafe/persistent-merkle-tree/hasher/as-sha256")).hasher);
  }
}

/**
 * Loads lodestar's SSZ types for a preset (minimal for dev chains: 8 slots per epoch and smaller
 * committees, which changes some hash roots). The preset is fixed for the whole process, as lodestar
 * requires, so a process signs for one preset only.
 */
export async function loadEthSszTypes(preset: Preset): Promise<EthSszTypes> {
  if (loaded !== null) {
    if (loaded.preset !== preset) throw new Error(`SSZ types already loaded for the ${loaded.preset} preset`);
    return loaded;
  }
  await installFastHasher();
  const { setActivePreset, PresetName } = await import("@lodestar/params/setPreset");
  if (preset !== "mainnet") setActivePreset(PresetName[preset]);
  const params = await import("@lodestar/params");
  if (params.ACTIVE_PRESET !== preset) {
    throw new Error(
      `lodestar preset is ${params.ACTIVE_PRESET}, wanted ${preset} (it was frozen earlier in this process)`,
    );
  }
  const { ssz } = await import("@lodestar/types");
  const seen = new Map<AnyType, AnyType>();
  const b = (t: AnyType): AnyType => bigintify(t, seen);
  const forks = ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"] as const;
  const beaconBlock: Record<string, AnyType> = {};
  const aggregateAndProof: Record<string, AnyType> = {};
  for (const f of forks) {
    const s = ssz[f] as unknown as Record<string, AnyType>;
    beaconBlock[f] = b(s.BeaconBlock!);
    aggregateAndProof[f] = b(s.AggregateAndProof ?? (ssz.phase0.AggregateAndProof as AnyType));
  }
  loaded = {
    preset,
    slotsPerEpoch: BigInt(params.SLOTS_PER_EPOCH),
    uint64: new StrictUintBigintType(8),
    root: ssz.Root as AnyType,
    forkData: b(ssz.phase0.ForkData),
    signingData: b(ssz.phase0.SigningData),
    attestationData: b(ssz.phase0.AttestationData),
    beaconBlockHeader: b(ssz.phase0.BeaconBlockHeader),
    voluntaryExit: b(ssz.phase0.VoluntaryExit),
    syncAggregatorSelectionData: b(ssz.altair.SyncAggregatorSelectionData),
    contributionAndProof: b(ssz.altair.ContributionAndProof),
    validatorRegistration: b(ssz.bellatrix.ValidatorRegistrationV1),
    depositMessage: b(ssz.phase0.DepositMessage),
    beaconBlock,
    aggregateAndProof,
  };
  return loaded;
}
