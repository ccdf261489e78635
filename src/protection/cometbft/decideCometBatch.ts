import type { Hrs } from "../../chains/cometbft/index.js";
import { CometSignError, CometSignErrorCode, decideHrs, type SignState } from "../../chains/cometbft/index.js";
import type { SqlTx } from "../../store/index.js";
import {
  type CometStateRow,
  LockClass,
  lockKeys,
  cometSignStateRepository as repo,
  StoreError,
  StoreErrorCode,
} from "../../store/index.js";
import type { Settled } from "../../util/groupCommit.js";
import { toHex } from "../../util/hex.js";
import type { ReleasedPositions } from "../engine/releasedPositions.js";
import type { CometSigningKey, CometSignOutcome, CometSignRequest } from "./types.js";

export interface CometBatchItem {
  req: CometSignRequest;
  /** Row id of (chain id, key): the advisory-lock id. */
  id: number;
  key: CometSigningKey;
}

const stateOf = (r: CometStateRow): SignState => ({
  hrs: { height: r.height, round: r.round, step: r.step },
  signBytes: r.signBytes,
  signature: r.signature,
});

/**
 * Decides a batch inside one transaction: locks every key, reads its state, decides the requests in
 * arrival order (a later request for the same key sees what an earlier one signed), signs the new
 * positions and writes the new states. The caller commits before any signature is released.
 */
export async function decideCometBatch(
  tx: SqlTx,
  items: readonly CometBatchItem[],
  released: ReleasedPositions<Hrs> | null = null,
): Promise<Settled<CometSignOutcome>[]> {
  const ids = [...new Set(items.map((it) => it.id))];
  await lockKeys(
    tx,
    ids.map((id) => ({ cls: LockClass.CometBft, id })),
  );
  const rows = await repo.load(tx, ids);
  const states = new Map<number, SignState>();
  for (const [id, r] of rows) states.set(id, stateOf(r));
  const dirty = new Set<number>();

  const results: Settled<CometSignOutcome>[] = [];
  for (const { req, id, key } of items) {
    const state = states.get(id);
    if (state === undefined) {
      // The row is created when the key is registered; without it there is nothing to decide against.
      results.push({ ok: false, error: unknownKey(req) });
      continue;
    }
    const behind = released?.behind(String(id), state.hrs) ?? null;
    if (behind !== null) {
      results.push({ ok: false, error: storeBehind(req, behind.released, behind.stored) });
      continue;
    }
    const d = decideHrs(state, req.hrs, req.signBytes);
    if (d.result === "refuse") {
      const error = new CometSignError(
        { ...d.refusal, chainId: req.chainId, pubkey: toHex(req.pubkey) },
        `${d.refusal.code}: ${d.reason}`,
      );
      results.push({ ok: false, error });
    } else if (d.result === "repeat") {
      results.push({ ok: true, value: { signature: d.signature, timestamp: d.timestamp, repeat: true } });
    } else {
      const signature = await key.sign(req.signBytes);
      states.set(id, { hrs: req.hrs, signBytes: req.signBytes, signature });
      dirty.add(id);
      results.push({ ok: true, value: { signature, timestamp: null, repeat: false } });
    }
  }

  for (const id of dirty) {
    const s = states.get(id)!;
    const changed = await repo.advance(tx, { id, ...s.hrs, signBytes: s.signBytes, signature: s.signature });
    if (!changed) {
      // Only possible if another writer moved the row without the lock: refuse the whole batch.
      throw new StoreError(
        { code: StoreErrorCode.Conflict, constraint: "cometbft_sign_state monotonic" },
        "CometBFT sign state changed under the lock; refusing the batch",
      );
    }
  }
  return results;
}

function storeBehind(req: CometSignRequest, released: Hrs, stored: Hrs | null): CometSignError {
  return new CometSignError(
    {
      code: CometSignErrorCode.StoreBehind,
      chainId: req.chainId,
      pubkey: toHex(req.pubkey),
      incoming: req.hrs,
      previous: stored,
      released,
    },
    `${CometSignErrorCode.StoreBehind}: the database holds less for this key than this process already signed (records lost in a database failover or restore): the key stops signing until the history is restored and the signer restarted`,
  );
}

export function unknownKey(req: CometSignRequest): CometSignError {
  return new CometSignError(
    {
      code: CometSignErrorCode.KeyUnknown,
      chainId: req.chainId,
      pubkey: toHex(req.pubkey),
      incoming: req.hrs,
      previous: null,
    },
    `${CometSignErrorCode.KeyUnknown}: no key ${toHex(req.pubkey)} is configured for chain ${req.chainId}`,
  );
}
