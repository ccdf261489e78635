import {
  type BabeRecord,
  type BeefyRecord,
  checkBabe,
  checkBeefy,
  checkGrandpa,
  checkPara,
  type GrandpaRecord,
  GrandpaStage,
  type ParaRecord,
  type ParaVoteState,
  paraSide,
  type RuleResult,
  SubstrateError,
  SubstrateErrorCode,
  type SubstrateRecord,
} from "../../chains/substrate/index.js";
import type { SqlTx, SubstrateSigningRepository } from "../../store/index.js";
import {
  type BabeBlockRow,
  type BeefyVoteRow,
  type GrandpaProposalRow,
  type GrandpaVoteRow,
  LockClass,
  lockKeys,
  PARA_STATEMENT_BITS,
  type ParaVoteRow,
  type SubstrateKeyState,
  substrateKeysRepository,
} from "../../store/index.js";
import type { Settled } from "../../util/groupCommit.js";
import { toHex } from "../../util/hex.js";
import { badU64, decideStorable } from "../batchGuard.js";
import type { SubstrateReleased } from "./releasedPositions.js";
import type { SubstrateOutcome, SubstrateProtectionRequest } from "./types.js";

export interface BatchItem {
  req: SubstrateProtectionRequest;
  /** Key id in the store. */
  id: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const gKey = (id: number, setId: bigint, round: bigint, stage: number): string => `${id}:${setId}:${round}:${stage}`;
const bKey = (id: number, slot: bigint): string => `${id}:${slot}`;
const pKey = (id: number, h: Uint8Array): string => `${id}:${hex(h)}`;
const eKey = (id: number, setId: bigint, block: bigint): string => `${id}:${setId}:${block}`;

const maxOf = (a: bigint | null, b: bigint | null): bigint | null => (a === null ? b : b === null || a >= b ? a : b);

/**
 * Decides a batch (see decideValid); a request with a number the store cannot hold fails alone (batchGuard.ts).
 */
export function decideBatch(
  tx: SqlTx,
  repo: SubstrateSigningRepository,
  items: readonly BatchItem[],
  released: SubstrateReleased | null = null,
): Promise<Settled<SubstrateOutcome>[]> {
  return decideStorable(
    items,
    ({ req }) => {
      for (const r of req.records) {
        const bad = badU64(r);
        if (bad !== null) return bad;
      }
      return null;
    },
    (valid) => decideValid(tx, repo, valid, released),
  );
}

/**
 * Decides valid requests inside one transaction: locks every key, reads each key's state and exactly the
 * stored records the requests can conflict with, decides every request in arrival order (a later
 * request sees what an earlier one recorded), then writes the new records. The caller commits before
 * any answer is released.
 */
async function decideValid(
  tx: SqlTx,
  repo: SubstrateSigningRepository,
  items: readonly BatchItem[],
  released: SubstrateReleased | null,
): Promise<Settled<SubstrateOutcome>[]> {
  const ids = [...new Set(items.map((it) => it.id))];
  await lockKeys(
    tx,
    ids.map((id) => ({ cls: LockClass.Substrate, id })),
  );
  const states = await substrateKeysRepository.loadStates(tx, ids);

  const grandpa = new Map<string, GrandpaRecord>();
  const babe = new Map<string, BabeRecord>();
  const para = new Map<string, ParaVoteRow>();
  const gq = new Map<string, { id: number; setId: bigint; round: bigint; stage: number }>();
  const bq = new Map<string, { id: number; slot: bigint }>();
  const pq = new Map<string, { id: number; candidateHash: Uint8Array }>();
  const beefy = new Map<string, BeefyRecord>();
  const eq = new Map<string, { id: number; setId: bigint; blockNumber: bigint }>();
  for (const { req, id } of items) {
    for (const r of req.records) {
      if (r.kind === "grandpa" && r.stage !== GrandpaStage.PrimaryPropose)
        gq.set(gKey(id, r.setId, r.round, r.stage), { id, setId: r.setId, round: r.round, stage: r.stage });
      else if (r.kind === "babe") bq.set(bKey(id, r.slot), { id, slot: r.slot });
      else if (r.kind === "para") pq.set(pKey(id, r.candidateHash), { id, candidateHash: r.candidateHash });
      else if (r.kind === "beefy")
        eq.set(eKey(id, r.setId, r.blockNumber), { id, setId: r.setId, blockNumber: r.blockNumber });
    }
  }
  for (const v of await repo.loadGrandpa(tx, [...gq.values()])) {
    grandpa.set(gKey(v.id, v.setId, v.round, v.stage), { kind: "grandpa", ...v, stage: v.stage as GrandpaStage });
  }
  for (const b of await repo.loadBabe(tx, [...bq.values()])) babe.set(bKey(b.id, b.slot), { kind: "babe", ...b });
  for (const p of await repo.loadPara(tx, [...pq.values()])) para.set(pKey(p.id, p.candidateHash), p);
  for (const e of await repo.loadBeefy(tx, [...eq.values()]))
    beefy.set(eKey(e.id, e.setId, e.blockNumber), { kind: "beefy", ...e });

  const newVotes: GrandpaVoteRow[] = [];
  const newProposals: GrandpaProposalRow[] = [];
  const newBlocks: BabeBlockRow[] = [];
  const newBeefy: BeefyVoteRow[] = [];
  const touchedPara = new Map<string, ParaVoteRow>();
  const lasts = new Map<number, SubstrateKeyState>();

  const check = (id: number, s: SubstrateKeyState, r: SubstrateRecord): RuleResult => {
    if (r.kind === "grandpa")
      return checkGrandpa(r, grandpa.get(gKey(id, r.setId, r.round, r.stage)) ?? null, s.lowSetId);
    if (r.kind === "babe") return checkBabe(r, babe.get(bKey(id, r.slot)) ?? null, s.lowSlot);
    if (r.kind === "beefy") return checkBeefy(r, beefy.get(eKey(id, r.setId, r.blockNumber)) ?? null, s.lowSetId);
    return checkPara(r, paraState(para.get(pKey(id, r.candidateHash))), s.lowSession);
  };

  const results: Settled<SubstrateOutcome>[] = [];
  for (const item of items) {
    const { req, id } = item;
    const s = states.get(id);
    const who = { keyType: req.keyType, publicKey: toHex(req.publicKey) };
    if (s === undefined || !s.enabled) {
      // A key the store does not know cannot be decided: fail closed as disabled.
      const err = new SubstrateError({
        code: SubstrateErrorCode.KeyDisabled,
        incoming: req.records[0]!,
        previous: null,
        ...who,
      });
      results.push({ ok: false, error: err });
      continue;
    }
    const behind = released?.behind(id, s, req) ?? null;
    if (behind !== null) {
      results.push({ ok: false, error: behind });
      continue;
    }
    const decided = req.records.map((r) => ({ r, res: check(id, s, r) }));
    const refused = decided.find((d) => d.res.result === "refuse");
    if (refused !== undefined && refused.res.result === "refuse") {
      results.push({ ok: false, error: new SubstrateError({ ...refused.res.refusal, ...who }) });
      continue;
    }
    const inserted: SubstrateRecord[] = [];
    for (const { r, res } of decided) {
      if (res.result !== "insert") continue;
      inserted.push(r);
      const last = lasts.get(id) ?? { ...s };
      if (r.kind === "grandpa") {
        if (r.stage === GrandpaStage.PrimaryPropose) {
          newProposals.push({
            id,
            setId: r.setId,
            round: r.round,
            targetHash: r.targetHash!,
            targetNumber: r.targetNumber!,
          });
        } else {
          grandpa.set(gKey(id, r.setId, r.round, r.stage), r);
          newVotes.push({
            id,
            setId: r.setId,
            round: r.round,
            stage: r.stage,
            targetHash: r.targetHash,
            targetNumber: r.targetNumber,
          });
        }
        raiseSetRound(last, r.setId, r.round);
      } else if (r.kind === "babe") {
        babe.set(bKey(id, r.slot), r);
        newBlocks.push({ id, slot: r.slot, preHash: r.preHash, authorityIndex: r.authorityIndex });
        last.lastSlot = maxOf(last.lastSlot, r.slot);
      } else if (r.kind === "beefy") {
        beefy.set(eKey(id, r.setId, r.blockNumber), r);
        newBeefy.push({ id, setId: r.setId, blockNumber: r.blockNumber, commitmentHash: r.commitmentHash });
        raiseSetRound(last, r.setId, r.blockNumber);
      } else {
        const row = applyPara(para.get(pKey(id, r.candidateHash)), id, r);
        para.set(pKey(id, r.candidateHash), row);
        touchedPara.set(pKey(id, r.candidateHash), row);
        last.lastSession = maxOf(last.lastSession, r.session);
      }
      lasts.set(id, last);
    }
    // only what is written raises the key's last positions in the store: only that counts as released
    released?.willRelease(item, inserted);
    results.push({ ok: true, value: inserted.length > 0 ? "new" : "repeat" });
  }

  await repo.insertGrandpa(tx, newVotes);
  await repo.insertProposals(tx, newProposals);
  await repo.insertBabe(tx, newBlocks);
  await repo.upsertPara(tx, [...touchedPara.values()]);
  await repo.insertBeefy(tx, newBeefy);
  await repo.saveLasts(tx, [...lasts.values()]);
  return results;
}

/** last (set, round) is the highest pair in lexicographic order (BEEFY: set id, block number). */
function raiseSetRound(last: SubstrateKeyState, setId: bigint, round: bigint): void {
  if (
    last.lastSetId === null ||
    setId > last.lastSetId ||
    (setId === last.lastSetId && round > (last.lastRound ?? 0n))
  ) {
    last.lastSetId = setId;
    last.lastRound = round;
  }
}

function paraState(row: ParaVoteRow | undefined): ParaVoteState | null {
  if (row === undefined) return null;
  const statements = new Set<string>();
  for (const [name, bit] of Object.entries(PARA_STATEMENT_BITS)) if ((row.statements & bit) !== 0) statements.add(name);
  return { side: row.side === null ? null : row.side === 1 ? "valid" : "invalid", statements, session: row.session };
}

function applyPara(row: ParaVoteRow | undefined, id: number, r: ParaRecord): ParaVoteRow {
  return {
    id,
    candidateHash: r.candidateHash,
    side: paraSide(r.statement) === "valid" ? 1 : 0,
    statements: (row?.statements ?? 0) | PARA_STATEMENT_BITS[r.statement],
    session: maxOf(row?.session ?? null, r.session),
  };
}
