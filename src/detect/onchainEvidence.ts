import type { BeaconApi, EthSszTypes, ForkVersions } from "../chains/ethereum/index.js";
import {
  attestationSigningRoot,
  attestingIndices,
  blockSigningRoot,
  type ChainTime,
  epochOfSlot,
} from "../chains/ethereum/index.js";
import { bytesEqual, toHex } from "../util/hex.js";
import type { Logger } from "../util/logger.js";
import type { OwnActivity } from "./ownActivity.js";

/** Something on chain signed with a watched key that our signing log does not hold. */
export interface OnchainEvidence {
  signal: "attestation_mismatch" | "block_mismatch";
  /** Slot of the block that carries it. */
  slot: string;
  block_root: string;
  /** Target epoch (attestations) or slot (blocks) it was signed for. */
  signed_for: string;
  /** The root the chain's message was signed over, and what we recorded there (empty: nothing). */
  their_root: string;
  our_roots: string[];
  /** The attestation data as the chain has it. */
  data?: Record<string, unknown>;
}

interface ScanInput {
  /** Watched validator index -> validator id in our store. */
  watched: Map<number, number>;
  ours: OwnActivity;
  fork: ForkVersions;
  /** Our records are loaded for attestation targets and block slots in these epochs (inclusive). */
  fromEpoch: bigint;
  toEpoch: bigint;
}

/**
 * Reads the blocks of the detection window once each (header, then its attestations) and compares
 * every attestation and block of a watched key with what we recorded for its target or slot.
 * Findings are kept per block slot and reported while their slot is in the window.
 */
export class OnchainEvidenceScanner {
  private nextSlot = -1n;
  private readonly found = new Map<bigint, Map<number, OnchainEvidence[]>>();
  private readonly committees = new Map<bigint, Map<string, Float64Array>>();

  constructor(
    private readonly beacon: BeaconApi,
    private readonly types: EthSszTypes,
    private readonly genesisValidatorsRoot: Uint8Array,
    private readonly t: ChainTime,
    private readonly logger: Logger,
  ) {}

  /**
   * Scans the blocks of slots [fromSlot, toSlot] not scanned yet and returns the findings of the
   * window per validator id. A failing beacon call stops the scan there; the next pass resumes.
   */
  async scan(fromSlot: bigint, toSlot: bigint, input: ScanInput): Promise<Map<number, OnchainEvidence[]>> {
    for (const slot of [...this.found.keys()]) if (slot < fromSlot) this.found.delete(slot);
    for (const epoch of [...this.committees.keys()])
      if (epoch < epochOfSlot(this.t, fromSlot) - 1n) this.committees.delete(epoch);
    for (let slot = this.nextSlot > fromSlot ? this.nextSlot : fromSlot; slot <= toSlot; slot++) {
      await this.scanSlot(slot, input);
      this.nextSlot = slot + 1n;
    }
    const out = new Map<number, OnchainEvidence[]>();
    for (const perKey of this.found.values())
      for (const [id, ev] of perKey) out.set(id, [...(out.get(id) ?? []), ...ev]);
    return out;
  }

  private async scanSlot(slot: bigint, input: ScanInput): Promise<void> {
    if (slot === 0n) return; // the genesis block is signed by nobody (its proposer index 0 means nothing)
    const header = await this.beacon.header(slot);
    if (header === null) return;
    const found = new Map<number, OnchainEvidence[]>();
    const add = (id: number, e: OnchainEvidence): void => {
      found.set(id, [...(found.get(id) ?? []), e]);
    };
    const blockEpoch = epochOfSlot(this.t, slot);
    const proposer = input.watched.get(header.proposerIndex);
    if (proposer !== undefined && blockEpoch >= input.fromEpoch) {
      const theirs = blockSigningRoot(this.types, header.root, blockEpoch, input.fork, this.genesisValidatorsRoot);
      const recorded = input.ours.blocks.get(proposer)?.get(slot);
      if (recorded !== null && !(recorded !== undefined && bytesEqual(recorded, theirs))) {
        add(proposer, {
          signal: "block_mismatch",
          slot: String(slot),
          block_root: toHex(header.root),
          signed_for: String(slot),
          their_root: toHex(theirs),
          our_roots: recorded === undefined ? [] : [toHex(recorded)],
        });
      }
    }
    for (const a of await this.beacon.blockAttestations(header.root)) {
      const target = a.data.targetEpoch;
      if (target < input.fromEpoch - 1n || target > input.toEpoch) continue; // outside what we loaded
      let indices: number[];
      try {
        indices = attestingIndices(a, await this.committeeLookup(epochOfSlot(this.t, a.data.slot)));
      } catch (e) {
        this.logger.warn("On-chain attestation does not fit its committee: skipped", { slot, target }, e);
        continue;
      }
      let theirs: Uint8Array | null = null;
      for (const index of indices) {
        const id = input.watched.get(index);
        if (id === undefined) continue;
        const roots = input.ours.attestations.get(id)?.get(target) ?? [];
        if (roots.length > 0 && roots.every((r) => r === null)) continue; // imported without roots: cannot compare
        theirs ??= attestationSigningRoot(this.types, a, input.fork, this.genesisValidatorsRoot);
        const root = theirs;
        if (roots.some((r) => r !== null && bytesEqual(r, root))) continue;
        add(id, {
          signal: "attestation_mismatch",
          slot: String(slot),
          block_root: toHex(header.root),
          signed_for: String(target),
          their_root: toHex(root),
          our_roots: roots.flatMap((r) => (r === null ? [] : [toHex(r)])),
          data: a.data.json,
        });
      }
    }
    if (found.size > 0) this.found.set(slot, found);
  }

  private async committeeLookup(epoch: bigint): Promise<(slot: bigint, index: bigint) => Float64Array | undefined> {
    let m = this.committees.get(epoch);
    if (m === undefined) {
      m = new Map();
      for (const c of await this.beacon.committees(epoch)) m.set(`${c.slot}:${c.index}`, c.validators);
      this.committees.set(epoch, m);
    }
    const byKey = m;
    return (slot, index) => byKey.get(`${slot}:${index}`);
  }
}
