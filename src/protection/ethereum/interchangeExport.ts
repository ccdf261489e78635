import { once } from "node:events";
import type { Writable } from "node:stream";
import { INTERCHANGE_FORMAT_VERSION } from "../../chains/ethereum/index.js";
import type { Store, StoredAttestation } from "../../store/index.js";
import { ethHistoryRepository, ethSigningRepository, ethValidatorsRepository } from "../../store/index.js";
import { toHex } from "../../util/hex.js";
import { maxBig } from "../../util/u64.js";
import { assertGenesis } from "./ethereumProtection.js";

export interface ExportSummary {
  validators: number;
  blocks: number;
  attestations: number;
}

/**
 * An importer's watermarks are the lowest source and target of the records it reads. The records at or
 * above our target watermark normally imply ours; they do not when our source watermark is higher than
 * the lowest of their sources (after an import of data slashable against ours raised the target
 * watermark over records with higher sources, or after such records were pruned). Then one record
 * without a signing root, (source watermark, target watermark), carries the watermarks: every vote it
 * forbids (nothing at that target, nothing surrounding it) is one this database forbids too. Returns
 * null when the real records suffice.
 */
export function watermarkRecord(
  exported: readonly StoredAttestation[],
  lowTarget: bigint,
  lowSource: bigint,
): StoredAttestation | null {
  if (exported.length > 0) {
    const minSource = exported.reduce((m, a) => (a.source < m ? a.source : m), exported[0]!.source);
    if (minSource >= lowSource) return null;
    // a real record at the target watermark with a source at least the source watermark forbids the same
    if (exported.some((a) => a.target === lowTarget && a.source >= lowSource)) return null;
  }
  return { source: lowSource, target: lowTarget, signingRoot: null };
}

/**
 * Streams an EIP-3076 v5 interchange, one validator at a time, with every record at or above each
 * key's low watermarks (so an importer's minima equal our watermarks), plus, where needed, one record
 * that carries the source watermark (watermarkRecord). A NULL root is written as an absent signing_root. With `pubkeys`, only those keys are exported (each, even with no records).
 */
export async function exportInterchange(
  store: Store,
  out: Writable,
  genesisRoot: Uint8Array,
  pubkeys?: readonly Uint8Array[],
): Promise<ExportSummary> {
  const bound = await store.tx((tx) => ethValidatorsRepository.getGenesisRoot(tx), { readOnly: true });
  if (bound !== null) assertGenesis(bound, genesisRoot);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, "drain");
  };
  const summary: ExportSummary = { validators: 0, blocks: 0, attestations: 0 };
  await write(
    `{"metadata":{"interchange_format_version":"${INTERCHANGE_FORMAT_VERSION}","genesis_validators_root":"${toHex(genesisRoot)}"},"data":[`,
  );
  const validators = await store.tx(
    (tx) => (pubkeys === undefined ? ethValidatorsRepository.list(tx) : ethValidatorsRepository.list(tx, pubkeys)),
    { readOnly: true },
  );
  for (const v of validators) {
    // Each key in its own short read transaction: a long export never holds the writer off.
    const entry = await store.tx(
      async (tx) => {
        const repo = ethSigningRepository(tx.dialect);
        const bs = (await repo.loadBlockStates(tx, [v.id])).get(v.id);
        const as = (await repo.loadAttestationStates(tx, [v.id])).get(v.id);
        const blocks = await ethHistoryRepository.blocksFrom(tx, v.id, bs?.lowSlot ?? null);
        const atts = await ethHistoryRepository.attestationsFrom(tx, v.id, as?.lowTarget ?? null);
        const lowTarget = as?.lowTarget ?? null;
        const lowSource = as?.lowSource ?? null;
        if (lowTarget !== null && lowSource !== null) {
          const below = await ethHistoryRepository.maxSourceUpTo(tx, v.id, lowTarget);
          const floor = watermarkRecord(atts, lowTarget, below === null ? lowSource : maxBig(lowSource, below));
          if (floor !== null) atts.unshift(floor);
        }
        return { blocks, atts };
      },
      { readOnly: true },
    );
    if (pubkeys === undefined && entry.blocks.length === 0 && entry.atts.length === 0) continue;
    const blocks = entry.blocks.map(
      (b) => `{"slot":"${b.slot}"${b.signingRoot === null ? "" : `,"signing_root":"${toHex(b.signingRoot)}"`}}`,
    );
    const atts = entry.atts.map(
      (a) =>
        `{"source_epoch":"${a.source}","target_epoch":"${a.target}"${a.signingRoot === null ? "" : `,"signing_root":"${toHex(a.signingRoot)}"`}}`,
    );
    await write(
      `${summary.validators === 0 ? "" : ","}\n{"pubkey":"${toHex(v.pubkey)}","signed_blocks":[${blocks.join(",")}],"signed_attestations":[${atts.join(",")}]}`,
    );
    summary.validators++;
    summary.blocks += blocks.length;
    summary.attestations += atts.length;
  }
  await write("\n]}\n");
  return summary;
}
