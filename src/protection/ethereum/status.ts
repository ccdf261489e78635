import type { Store } from "../../store/index.js";
import { ethHistoryRepository } from "../../store/index.js";
import { toHex } from "../../util/hex.js";

const PAGE = 1000;

/** Writes one line per key (table or JSON lines), page by page so 100,000 keys never sit in memory. */
export async function ethereumStatus(
  store: Store,
  write: (line: string) => void,
  opts: { json: boolean },
): Promise<number> {
  const gvr = await store.tx(
    async (tx) => {
      const [r] = await tx.all("SELECT genesis_validators_root FROM eth_metadata WHERE id = 1");
      return r ? toHex(new Uint8Array(r.genesis_validators_root as Buffer)) : null;
    },
    { readOnly: true },
  );
  if (!opts.json) {
    write(`store: ${store.url} (${store.dialect}, schema ${store.schemaVersion})\n`);
    write(`genesis validators root: ${gvr ?? "not bound yet"}\n`);
    write(
      `${["pubkey", "enabled", "blocks", "low..max slot", "attestations", "low source/target", "max source/target"].join("\t")}\n`,
    );
  }
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = await store.tx((tx) => ethHistoryRepository.summaries(tx, after, PAGE), { readOnly: true });
    if (rows.length === 0) break;
    for (const r of rows) {
      const s = (v: bigint | null): string => (v === null ? "-" : v.toString());
      if (opts.json) {
        write(
          `${JSON.stringify({
            chain: "ethereum",
            pubkey: toHex(r.pubkey),
            enabled: r.enabled,
            blocks: r.blocks,
            attestations: r.attestations,
            low_slot: r.lowSlot?.toString() ?? null,
            max_slot: r.maxSlot?.toString() ?? null,
            low_source_epoch: r.lowSource?.toString() ?? null,
            low_target_epoch: r.lowTarget?.toString() ?? null,
            max_source_epoch: r.maxSource?.toString() ?? null,
            max_target_epoch: r.maxTarget?.toString() ?? null,
          })}\n`,
        );
      } else {
        write(
          `${[
            toHex(r.pubkey),
            r.enabled ? "yes" : "no",
            r.blocks,
            `${s(r.lowSlot)}..${s(r.maxSlot)}`,
            r.attestations,
            `${s(r.lowSource)}/${s(r.lowTarget)}`,
            `${s(r.maxSource)}/${s(r.maxTarget)}`,
          ].join("\t")}\n`,
        );
      }
      count++;
    }
    after = rows[rows.length - 1]!.id;
  }
  if (!opts.json) write(`${count} keys\n`);
  return count;
}
