import type { Store } from "../../store/index.js";
import { substrateHistoryRepository as history, substrateKeysRepository as keys } from "../../store/index.js";
import { toHex } from "../../util/hex.js";

const PAGE = 500;

/**
 * One line per Substrate key (table or JSON lines) with the last slot / set / round it signed.
 * Writes nothing when the store holds no Substrate key, so other chains' output stays as it was.
 */
export async function substrateStatus(
  store: Store,
  write: (line: string) => void,
  opts: { json: boolean },
): Promise<number> {
  let after = 0;
  let count = 0;
  const s = (v: bigint | null): string => (v === null ? "-" : v.toString());
  for (;;) {
    const page = await store.tx((tx) => keys.page(tx, after, PAGE), { readOnly: true });
    if (page.length === 0) break;
    if (count === 0 && !opts.json) {
      write("\nsubstrate keys:\n");
      write(
        `${["key type", "public key", "enabled", "records", "last set/round", "last slot", "last session", "low set/slot/session"].join("\t")}\n`,
      );
    }
    for (const k of page) {
      const n = await store.tx((tx) => history.counts(tx, k.id), { readOnly: true });
      if (opts.json) {
        write(
          `${JSON.stringify({
            chain: "substrate",
            key_type: k.keyType,
            public_key: toHex(k.publicKey),
            enabled: k.enabled,
            grandpa_records: n.grandpa,
            babe_records: n.babe,
            para_records: n.para,
            beefy_records: n.beefy,
            last_set_id: k.lastSetId?.toString() ?? null,
            last_round: k.lastRound?.toString() ?? null,
            last_slot: k.lastSlot?.toString() ?? null,
            last_session: k.lastSession?.toString() ?? null,
            low_set_id: k.lowSetId?.toString() ?? null,
            low_slot: k.lowSlot?.toString() ?? null,
            low_session: k.lowSession?.toString() ?? null,
          })}\n`,
        );
      } else {
        write(
          `${[
            k.keyType,
            toHex(k.publicKey),
            k.enabled ? "yes" : "no",
            n.grandpa + n.babe + n.para + n.beefy,
            `${s(k.lastSetId)}/${s(k.lastRound)}`,
            s(k.lastSlot),
            s(k.lastSession),
            `${s(k.lowSetId)}/${s(k.lowSlot)}/${s(k.lowSession)}`,
          ].join("\t")}\n`,
        );
      }
      count++;
    }
    after = page[page.length - 1]!.id;
  }
  if (count > 0 && !opts.json) write(`${count} substrate keys\n`);
  return count;
}
