import { once } from "node:events";
import type { Writable } from "node:stream";
import {
  type GrandpaStage,
  type InterchangeKey,
  type ParaStatement,
  paraSide,
  parseSubstrateInterchange,
  SUBSTRATE_INTERCHANGE_FORMAT,
  SUBSTRATE_INTERCHANGE_VERSION,
  SubstrateInterchangeError,
  SubstrateInterchangeErrorCode,
  stageName,
} from "../../chains/substrate/index.js";
import type { SqlTx, Store } from "../../store/index.js";
import {
  substrateHistoryRepository as history,
  keyRefString,
  substrateKeysRepository as keys,
  LockClass,
  lockForImport,
  lockKeys,
  PARA_STATEMENT_BITS,
} from "../../store/index.js";
import { toHex } from "../../util/hex.js";
import { parseJson } from "../../util/jsonStream.js";
import { boundIds } from "./substrateProtection.js";

export interface SubstrateInterchangeSummary {
  keys: number;
  records: number;
}

const PAGE = 500;
const hexOrNull = (b: Uint8Array | null): string | null => (b === null ? null : toHex(b));
const str = (v: bigint | null): string | null => (v === null ? null : v.toString());

/**
 * Streams the documented interchange (docs/substrate.md): one JSON object per key with its watermarks
 * and every record, each key read in its own short transaction so signing never waits long.
 */
export async function exportSubstrateInterchange(store: Store, out: Writable): Promise<SubstrateInterchangeSummary> {
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, "drain");
  };
  const summary: SubstrateInterchangeSummary = { keys: 0, records: 0 };
  await write(
    `{"metadata":{"format":"${SUBSTRATE_INTERCHANGE_FORMAT}","version":"${SUBSTRATE_INTERCHANGE_VERSION}","exported_at":"${new Date().toISOString()}"},"keys":[`,
  );
  let after = 0;
  for (;;) {
    const page = await store.tx((tx) => keys.page(tx, after, PAGE), { readOnly: true });
    if (page.length === 0) break;
    for (const k of page) {
      const h = await store.tx((tx) => history.load(tx, k.id), { readOnly: true });
      const entry = {
        key_type: k.keyType,
        public_key: toHex(k.publicKey),
        low: { set_id: str(k.lowSetId), slot: str(k.lowSlot), session: str(k.lowSession) },
        grandpa_votes: h.grandpaVotes.map((v) => ({
          set_id: v.setId.toString(),
          round: v.round.toString(),
          stage: stageName(v.stage as GrandpaStage),
          target_hash: hexOrNull(v.targetHash),
          target_number: str(v.targetNumber),
        })),
        grandpa_proposals: h.grandpaProposals.map((p) => ({
          set_id: p.setId.toString(),
          round: p.round.toString(),
          target_hash: toHex(p.targetHash),
          target_number: p.targetNumber.toString(),
        })),
        babe_blocks: h.babeBlocks.map((b) => ({
          slot: b.slot.toString(),
          pre_hash: hexOrNull(b.preHash),
          authority_index: b.authorityIndex,
        })),
        para_votes: h.paraVotes.map((p) => ({
          candidate_hash: toHex(p.candidateHash),
          side: p.side === null ? "both" : p.side === 1 ? "valid" : "invalid",
          statements: (Object.keys(PARA_STATEMENT_BITS) as ParaStatement[]).filter(
            (s) => (p.statements & PARA_STATEMENT_BITS[s]) !== 0,
          ),
          session: str(p.session),
        })),
        beefy_votes: h.beefyVotes.map((v) => ({
          set_id: v.setId.toString(),
          block_number: v.blockNumber.toString(),
          commitment_hash: hexOrNull(v.commitmentHash),
        })),
      };
      await write(`${summary.keys === 0 ? "" : ","}\n${JSON.stringify(entry)}`);
      summary.keys++;
      summary.records +=
        h.grandpaVotes.length +
        h.grandpaProposals.length +
        h.babeBlocks.length +
        h.paraVotes.length +
        h.beefyVotes.length;
    }
    after = page[page.length - 1]!.id;
  }
  await write("\n]}\n");
  return summary;
}

/** Largest interchange read (it is parsed whole; Substrate histories are pruned to a few sessions). */
export const MAX_SUBSTRATE_INTERCHANGE_BYTES = 256 << 20;

/**
 * Imports an interchange atomically (one transaction; any error changes nothing). It only ever adds:
 * records are merged (two different records at one place become a NULL record that refuses both), and
 * watermarks and last values only go up. So importing older or conflicting state never lowers what is stored.
 */
export async function importSubstrateInterchange(store: Store, text: string): Promise<SubstrateInterchangeSummary> {
  if (text.length > MAX_SUBSTRATE_INTERCHANGE_BYTES) {
    throw new SubstrateInterchangeError(
      { code: SubstrateInterchangeErrorCode.Malformed, path: "$" },
      `substrate interchange larger than ${MAX_SUBSTRATE_INTERCHANGE_BYTES} bytes`,
    );
  }
  let doc: unknown;
  try {
    // strict: a key named twice in one object makes the file malformed (readers disagree on which counts)
    doc = parseJson(text);
  } catch (e) {
    throw new SubstrateInterchangeError(
      { code: SubstrateInterchangeErrorCode.Malformed, path: "$" },
      `substrate interchange is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const entries = parseSubstrateInterchange(doc);
  return store.tx(async (tx) => {
    await lockForImport(tx);
    // one public key, one key type: a key the database (or this file) files under another type refuses the import
    const ids = new Map<string, number>();
    for (const [ref, id] of boundIds(entries, await keys.upsert(tx, entries))) {
      if (id instanceof Error) throw id;
      ids.set(ref, id);
    }
    await lockKeys(
      tx,
      [...new Set(ids.values())].map((id) => ({ cls: LockClass.Substrate, id })),
    );
    let records = 0;
    for (const k of entries) {
      const id = ids.get(keyRefString(k.keyType, k.publicKey))!;
      records += await mergeKey(tx, id, k);
    }
    return { keys: entries.length, records };
  });
}

async function mergeKey(tx: SqlTx, id: number, k: InterchangeKey): Promise<number> {
  await keys.raiseLows(tx, id, k.low);
  for (const v of k.grandpaVotes) await history.mergeGrandpaVote(tx, { id, ...v });
  for (const p of k.grandpaProposals) await history.mergeGrandpaProposal(tx, { id, ...p });
  for (const b of k.babeBlocks) await history.mergeBabeBlock(tx, { id, ...b });
  for (const p of k.paraVotes) {
    let statements = 0;
    for (const s of p.statements) statements |= PARA_STATEMENT_BITS[s];
    const side = p.side === "both" ? null : p.side === "valid" ? 1 : 0;
    // a statement list that contradicts the side is both sides
    const contradicts = p.statements.some((s) => side !== null && (paraSide(s) === "valid" ? 1 : 0) !== side);
    await history.mergeParaVote(tx, {
      id,
      candidateHash: p.candidateHash,
      side: contradicts ? null : side,
      statements,
      session: p.session,
    });
  }
  for (const v of k.beefyVotes) await history.mergeBeefyVote(tx, { id, ...v });
  const maxOf = <T>(xs: T[], f: (x: T) => bigint | null): bigint | null =>
    xs.reduce<bigint | null>((m, x) => {
      const v = f(x);
      return v === null ? m : m === null || v > m ? v : m;
    }, null);
  const setRounds = [
    ...k.grandpaVotes.map((v) => [v.setId, v.round] as const),
    ...k.grandpaProposals.map((v) => [v.setId, v.round] as const),
    ...k.beefyVotes.map((v) => [v.setId, v.blockNumber] as const),
  ].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
  const top = setRounds[setRounds.length - 1];
  await history.raiseLasts(tx, {
    id,
    lastSetId: top?.[0] ?? null,
    lastRound: top?.[1] ?? null,
    lastSlot: maxOf(k.babeBlocks, (b) => b.slot),
    lastSession: maxOf(k.paraVotes, (p) => p.session),
  });
  return (
    k.grandpaVotes.length + k.grandpaProposals.length + k.babeBlocks.length + k.paraVotes.length + k.beefyVotes.length
  );
}
