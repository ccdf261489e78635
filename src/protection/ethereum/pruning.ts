import type { Store } from "../../store/index.js";
import { ethSigningRepository, ethHistoryRepository as history, LockClass, lockKeys } from "../../store/index.js";
import { maxBig } from "../../util/u64.js";

export interface PruneOptions {
  /** Epochs of history kept per key (Web3Signer's default: 250). */
  epochsToKeep?: bigint;
  slotsPerEpoch?: bigint;
  /** Epochs (or slots) deleted per transaction, so signing never waits long behind pruning. */
  chunk?: bigint;
  onProgress?: (done: number, total: number) => void;
}

export interface PruneSummary {
  validators: number;
  blocksDeleted: number;
  attestationsDeleted: number;
}

export const DEFAULT_EPOCHS_TO_KEEP = 250n;

/**
 * Online pruning, key by key. For each key the low watermarks move up first (under the key's signing
 * lock, snapped to a record that stays), then the rows below them are deleted in small transactions.
 * The source watermark first becomes at least the highest source of every attestation that goes: a
 * record below the target watermark still forbids the votes that surround it, and after the raise the
 * watermark forbids them instead. Rows below both watermarks decide nothing, so deleting them is safe
 * at any moment; a row imported below them later (with a higher source) is kept until the next prune.
 */
export async function pruneEthereum(store: Store, opts: PruneOptions = {}): Promise<PruneSummary> {
  const keep = opts.epochsToKeep ?? DEFAULT_EPOCHS_TO_KEEP;
  const slotsPerEpoch = opts.slotsPerEpoch ?? 32n;
  const chunk = opts.chunk ?? 1000n;
  if (keep < 1n) throw new RangeError("epochsToKeep must be at least 1");
  const summary: PruneSummary = { validators: 0, blocksDeleted: 0, attestationsDeleted: 0 };
  const ids = await store.tx(
    async (tx) => (await tx.all("SELECT id FROM eth_validators ORDER BY id")).map((r) => Number(r.id)),
    {
      readOnly: true,
    },
  );
  let done = 0;
  for (const id of ids) {
    const { blockLow, attLow } = await store.tx(async (tx) => {
      const repo = ethSigningRepository(tx.dialect);
      await lockKeys(tx, [
        { cls: LockClass.EthBlock, id },
        { cls: LockClass.EthAttestation, id },
      ]);
      let blockLow: bigint | null = null;
      const bs = (await repo.loadBlockStates(tx, [id])).get(id);
      if (bs?.maxSlot != null && bs.lowSlot !== null) {
        const span = keep * slotsPerEpoch;
        if (bs.maxSlot + 1n > span) {
          const nearest = await history.nearestBlockFrom(tx, id, bs.maxSlot + 1n - span);
          if (nearest !== null && nearest > bs.lowSlot) {
            await history.setBlockLow(tx, id, nearest);
            blockLow = nearest;
          }
        }
        blockLow ??= bs.lowSlot;
      }
      let attLow: { target: bigint; maxSource: bigint } | null = null;
      const as = (await repo.loadAttestationStates(tx, [id])).get(id);
      if (as?.lowTarget != null && as.lowSource !== null) {
        let lowTarget = as.lowTarget;
        if (as.maxTarget !== null && as.maxTarget + 1n > keep) {
          const nearest = await history.nearestAttestationFrom(tx, id, as.maxTarget + 1n - keep);
          if (nearest !== null && nearest > lowTarget) lowTarget = nearest;
        }
        // Every record about to go may still forbid votes that surround it (an import can raise the
        // target watermark over records with higher sources): the source watermark takes over first.
        const below = await history.maxSourceUpTo(tx, id, lowTarget);
        const lowSource = below === null ? as.lowSource : maxBig(as.lowSource, below);
        if (lowTarget !== as.lowTarget || lowSource !== as.lowSource) {
          await history.setAttestationLow(tx, id, lowSource, lowTarget);
        }
        attLow = { target: lowTarget, maxSource: lowSource };
      }
      return { blockLow, attLow };
    });
    if (blockLow !== null) {
      for (;;) {
        const n = await store.tx((tx) => history.deleteBlocksBelow(tx, id, blockLow, chunk * slotsPerEpoch));
        summary.blocksDeleted += n;
        if (n === 0) break;
        await yieldToSigning();
      }
    }
    if (attLow !== null) {
      for (;;) {
        const n = await store.tx((tx) =>
          history.deleteAttestationsBelow(tx, id, attLow.target, attLow.maxSource, chunk),
        );
        summary.attestationsDeleted += n;
        if (n === 0) break;
        await yieldToSigning();
      }
    }
    summary.validators++;
    opts.onProgress?.(++done, ids.length);
  }
  return summary;
}

/** Lets queued signing batches run between pruning transactions. */
function yieldToSigning(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
