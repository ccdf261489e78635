import type { SignaturesView } from "../schemas/timeline.js";
import type { Store } from "../store/index.js";
import { ethTimelineRepository } from "../store/index.js";
import { parseHex } from "../util/hex.js";
import { maxBig } from "../util/u64.js";

export interface SignaturesQuery {
  /** Could be an Ethereum key: 48 bytes, and not reported only under other chains. */
  ethereumKey: boolean;
  /** The caller may see the records: an admin, or the owner of the signer that wrote them. */
  held: boolean;
  epochs: number;
  slotsPerEpoch: bigint;
  toEpoch: bigint | null;
}

/**
 * Signatures per epoch the Ethereum signer recorded for one key in `store` (its slashing-protection
 * records), for the dashboard's key timeline; epochs as decimal strings.
 */
export async function signaturesOf(store: Store, pubkey: string, q: SignaturesQuery): Promise<SignaturesView> {
  const { epochs, slotsPerEpoch, toEpoch } = q;
  const none = (reason: string): SignaturesView => ({
    available: false,
    reason,
    slots_per_epoch: Number(slotsPerEpoch),
    from_epoch: null,
    to_epoch: null,
    epochs: [],
  });
  if (!q.ethereumKey) return none("Signatures per epoch are recorded for Ethereum keys only.");
  if (!q.held) return none("Signing records are shown to the signer's owner (monitor.ethereum.owner) only.");
  const key = parseHex(pubkey, "pubkey", 48);
  return store.tx(
    async (tx) => {
      const id = await ethTimelineRepository.validatorId(tx, key);
      if (id === null) return none("The signer using this store does not know this key.");
      const last = toEpoch ?? (await ethTimelineRepository.latestEpoch(tx, id, slotsPerEpoch));
      if (last === null) return none("The signer has recorded no signature for this key yet.");
      const first = maxBig(0n, last - BigInt(epochs - 1));
      const rows = await ethTimelineRepository.perEpoch(tx, id, first, last, slotsPerEpoch);
      return {
        available: true,
        reason: null,
        slots_per_epoch: Number(slotsPerEpoch),
        from_epoch: first.toString(),
        to_epoch: last.toString(),
        epochs: rows.map((r) => ({ epoch: r.epoch.toString(), attestations: r.attestations, blocks: r.blocks })),
      };
    },
    { readOnly: true },
  );
}
