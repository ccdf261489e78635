import {
  type AttestationRecord,
  type AttestationRequest,
  type AttestationState,
  applyAttestation,
  applyBlock,
  attestationNeedsHistory,
  type BlockRecord,
  type BlockRequest,
  type BlockState,
  blockNeedsHistory,
  checkAttestation,
  checkBlock,
  EMPTY_ATTESTATION_STATE,
  EMPTY_BLOCK_STATE,
  ProtectionErrorCode,
  type ProtectionOutcome,
  type ProtectionRequest,
  type RuleResult,
  SlashingProtectionError,
} from "../../chains/ethereum/index.js";
import type {
  AttestationStateRow,
  BlockStateRow,
  EthSigningRepository,
  NewAttestation,
  NewBlock,
  SqlTx,
  StateChange,
} from "../../store/index.js";
import { LockClass, type LockKey } from "../../store/index.js";
import { BadRequestError } from "../../util/errors.js";
import type { Settled } from "../../util/groupCommit.js";
import { toHex } from "../../util/hex.js";
import { minBig } from "../../util/u64.js";
import { badU64, decideStorable } from "../batchGuard.js";
import type { Behind, ReleasedPositions } from "./releasedPositions.js";

export interface BatchItem {
  req: ProtectionRequest;
  /** Validator id in the store. */
  id: number;
}

/** Per key, what the decisions of this batch know: state, stored records fetched, records added now. */
interface KeyView<S, R> {
  enabled: boolean;
  state: S;
  dirty: boolean;
  /** The low watermarks changed (the only part of the state that is stored). */
  lowChanged: boolean;
  stored: R[] | null;
  added: R[];
}

/** The locks a batch needs (the caller takes them first in its transaction: batchLockStatement). */
export function batchLockKeys(items: readonly BatchItem[]): LockKey[] {
  return items.map((it) => ({
    cls: it.req.kind === "block" ? LockClass.EthBlock : LockClass.EthAttestation,
    id: it.id,
  }));
}

/**
 * Decides a batch (see decideValid). A request whose values cannot be stored (a number outside u64, a
 * root that is not 32 bytes) fails alone with ERR_BAD_REQUEST (batchGuard.ts).
 */
export function decideBatch(
  tx: SqlTx,
  repo: EthSigningRepository,
  items: readonly BatchItem[],
  released: ReleasedPositions | null = null,
): Promise<Settled<ProtectionOutcome>[]> {
  return decideStorable(
    items,
    ({ req }) => {
      const bad = badU64(req.kind === "block" ? { slot: req.slot } : { source: req.source, target: req.target });
      if (bad !== null) return bad;
      const root = req.signingRoot;
      return root !== null && (!(root instanceof Uint8Array) || root.length !== 32)
        ? new BadRequestError("signing root must be 32 bytes or unknown", "signingRoot")
        : null;
    },
    (valid) => decideValid(tx, repo, valid, released),
  );
}

/**
 * Decides valid requests inside one transaction that already holds the batch's key locks (batchLockKeys): reads each key's state, fetches stored
 * records only for keys whose requests need them, decides every request in arrival order (a later
 * request sees what an earlier one recorded), then writes the new records and states. The caller
 * commits before any answer is released.
 */
async function decideValid(
  tx: SqlTx,
  repo: EthSigningRepository,
  items: readonly BatchItem[],
  released: ReleasedPositions | null,
): Promise<Settled<ProtectionOutcome>[]> {
  await repo.begin(tx);
  const blockItems: { req: BlockRequest; id: number }[] = [];
  const attItems: { req: AttestationRequest; id: number }[] = [];
  for (const it of items) {
    // the item itself, its request narrowed by kind (no copy per request)
    if (it.req.kind === "block") blockItems.push(it as { req: BlockRequest; id: number });
    else attItems.push(it as { req: AttestationRequest; id: number });
  }

  const blocks = await loadViews<BlockStateRow, BlockState, BlockRecord>(
    blockItems,
    (ids) => repo.loadBlockStates(tx, ids),
    (r) => r,
    EMPTY_BLOCK_STATE,
  );
  const atts = await loadViews<AttestationStateRow, AttestationState, AttestationRecord>(
    attItems,
    (ids) => repo.loadAttestationStates(tx, ids),
    (r) => r,
    EMPTY_ATTESTATION_STATE,
  );

  // requests by key, built only when some key needs its stored records (rare)
  let blockReqs: Map<number, BlockRequest[]> | null = null;
  let attReqs: Map<number, AttestationRequest[]> | null = null;
  const fetchBlocks = async (ids: number[]): Promise<void> => {
    if (ids.length === 0) return;
    blockReqs ??= groupRecords(blockItems);
    const byKey = blockReqs;
    const got = await repo.loadBlocks(
      tx,
      ids.map((id) => ({ id, slots: [...new Set(byKey.get(id)!.map((r) => r.slot))] })),
    );
    for (const id of ids) blocks.get(id)!.stored = got.get(id) ?? [];
  };
  const fetchAtts = async (ids: number[]): Promise<void> => {
    if (ids.length === 0) return;
    attReqs ??= groupRecords(attItems);
    const byKey = attReqs;
    const got = await repo.loadAttestations(
      tx,
      ids.map((id) => {
        const reqs = byKey.get(id)!;
        return {
          id,
          minTarget: reqs.map((r) => r.target).reduce(minBig),
          minSource: reqs.map((r) => r.source).reduce(minBig),
        };
      }),
    );
    for (const id of ids) atts.get(id)!.stored = got.get(id) ?? [];
  };

  // Prefetch in one statement the records of every key that will (probably) need them; a key the
  // estimate misses is fetched on its own below.
  await fetchBlocks(keysNeedingHistory(blockItems, blocks, blockNeedsHistoryOf, applyBlockOf));
  await fetchAtts(keysNeedingHistory(attItems, atts, attestationNeedsHistoryOf, applyAttestationOf));

  const results: Settled<ProtectionOutcome>[] = [];
  const newBlocks: NewBlock[] = [];
  const newAtts: NewAttestation[] = [];
  for (const { req, id } of items) {
    let result: RuleResult;
    if (req.kind === "block") {
      const v = blocks.get(id)!;
      const rec: BlockRecord = { slot: req.slot, signingRoot: req.signingRoot };
      const behind = v.enabled ? (released?.blockBehind(id, v.state) ?? null) : null;
      if (!v.enabled) result = disabled(rec);
      else if (behind !== null) result = storeBehind(rec, behind);
      else {
        if (v.stored === null && blockNeedsHistory(v.state, rec.slot)) await fetchBlocks([id]);
        result = checkBlock(rec, v.state, historyOf(v));
        if (result.result === "insert") {
          const next = applyBlock(v.state, rec);
          v.lowChanged ||= next.lowSlot !== v.state.lowSlot;
          v.state = next;
          v.added.push(rec);
          v.dirty = true;
          newBlocks.push({ id, ...rec });
        }
      }
    } else {
      const v = atts.get(id)!;
      const rec: AttestationRecord = { source: req.source, target: req.target, signingRoot: req.signingRoot };
      const behind = v.enabled ? (released?.attestationBehind(id, v.state) ?? null) : null;
      if (!v.enabled) result = disabled(rec);
      else if (behind !== null) result = storeBehind(rec, behind);
      else {
        if (v.stored === null && attestationNeedsHistory(v.state, rec)) await fetchAtts([id]);
        result = checkAttestation(rec, v.state, historyOf(v));
        if (result.result === "insert") {
          const next = applyAttestation(v.state, rec);
          v.lowChanged ||= next.lowSource !== v.state.lowSource || next.lowTarget !== v.state.lowTarget;
          v.state = next;
          v.added.push(rec);
          v.dirty = true;
          newAtts.push({ id, ...rec });
        }
      }
    }
    results.push(
      result.result === "refuse"
        ? { ok: false, error: new SlashingProtectionError({ ...result.refusal, pubkey: toHex(req.pubkey) }) }
        : result.result === "insert"
          ? NEW
          : REPEAT,
    );
  }

  await repo.write(tx, {
    blocks: newBlocks,
    attestations: newAtts,
    blockStates: dirtyStates(blocks),
    attestationStates: dirtyStates(atts),
  });
  return results;
}

async function loadViews<Row extends { enabled: boolean }, S, R>(
  items: readonly { id: number }[],
  load: (ids: number[]) => Promise<Map<number, Row>>,
  toState: (r: Row) => S,
  empty: S,
): Promise<Map<number, KeyView<S, R>>> {
  const ids = [...new Set(items.map((it) => it.id))];
  const views = new Map<number, KeyView<S, R>>();
  if (ids.length === 0) return views;
  const rows = await load(ids);
  for (const id of ids) {
    const r = rows.get(id);
    // A key the store does not know cannot be decided: fail closed as disabled.
    views.set(id, {
      enabled: r?.enabled ?? false,
      state: r === undefined ? empty : toState(r),
      dirty: false,
      lowChanged: false,
      stored: null,
      added: [],
    });
  }
  return views;
}

// answers shared by every request let through (read only)
const NEW: Settled<ProtectionOutcome> = Object.freeze({ ok: true, value: "new" });
const REPEAT: Settled<ProtectionOutcome> = Object.freeze({ ok: true, value: "repeat" });

/** What a key's next decision sees: the records fetched and those this batch added (no copy when one is empty). */
function historyOf<S, R>(v: KeyView<S, R>): readonly R[] {
  if (v.stored === null || v.stored.length === 0) return v.added;
  return v.added.length === 0 ? v.stored : [...v.stored, ...v.added];
}

function groupRecords<R>(items: readonly { req: R; id: number }[]): Map<number, R[]> {
  const m = new Map<number, R[]>();
  for (const it of items) {
    const list = m.get(it.id) ?? [];
    list.push(it.req);
    m.set(it.id, list);
  }
  return m;
}

/** Replays the batch on states alone, assuming every request is recorded, to see which keys need records. */
function keysNeedingHistory<S, R>(
  items: readonly { req: R; id: number }[],
  views: Map<number, KeyView<S, R>>,
  needs: (s: S, r: R) => boolean,
  apply: (s: S, r: R) => S,
): number[] {
  const out = new Set<number>();
  if (views.size === items.length) {
    // one request per key (the usual batch): nothing to replay
    for (const it of items) {
      const v = views.get(it.id)!;
      if (v.enabled && needs(v.state, it.req)) out.add(it.id);
    }
    return [...out];
  }
  const sim = new Map<number, S>();
  for (const it of items) {
    const v = views.get(it.id)!;
    if (!v.enabled) continue;
    const s = sim.get(it.id) ?? v.state;
    const r = it.req;
    if (needs(s, r)) out.add(it.id);
    sim.set(it.id, apply(s, r));
  }
  return [...out];
}

const blockNeedsHistoryOf = (s: BlockState, r: BlockRecord): boolean => blockNeedsHistory(s, r.slot);
const applyBlockOf = (s: BlockState, r: BlockRecord): BlockState => applyBlock(s, r);
const attestationNeedsHistoryOf = (s: AttestationState, r: AttestationRecord): boolean => attestationNeedsHistory(s, r);
const applyAttestationOf = (s: AttestationState, r: AttestationRecord): AttestationState => applyAttestation(s, r);

function dirtyStates<S, R>(views: Map<number, KeyView<S, R>>): StateChange<S>[] {
  const out: StateChange<S>[] = [];
  for (const [id, v] of views) if (v.dirty) out.push({ id, state: v.state, persist: v.lowChanged });
  return out;
}

function storeBehind(incoming: BlockRecord | AttestationRecord, previous: Behind): RuleResult {
  return { result: "refuse", refusal: { code: ProtectionErrorCode.StoreBehind, incoming, previous } };
}

function disabled(incoming: BlockRecord | AttestationRecord): RuleResult {
  return { result: "refuse", refusal: { code: ProtectionErrorCode.KeyDisabled, incoming, previous: null } };
}
