import type { SubstrateRecord } from "../../chains/substrate/index.js";
import { SubstrateError, SubstrateErrorCode } from "../../chains/substrate/index.js";
import type { SubstrateKeyState } from "../../store/index.js";
import { toHex } from "../../util/hex.js";
import { compareBigint, ReleasedPositions } from "../engine/releasedPositions.js";

/** GRANDPA (set id, round) or BEEFY (set id, block number): compared in lexicographic order. */
type SetRound = readonly [bigint, bigint];

const compareSetRound = (a: SetRound, b: SetRound): number => compareBigint(a[0], b[0]) || compareBigint(a[1], b[1]);

/**
 * What this process released per Substrate key, against the key's last values in the store (which only go
 * up): the last (set, round), the last BABE slot, the last parachain session. A store that holds less went
 * backwards, and the key stops signing (ERR_SUBSTRATE_STORE_BEHIND).
 */
export class SubstrateReleased {
  private readonly setRounds = new ReleasedPositions<SetRound>(compareSetRound);
  private readonly numbers = new ReleasedPositions<bigint>(compareBigint);
  /** Per request of a batch being decided: the records its transaction writes (until the commit). */
  private readonly written = new WeakMap<object, readonly SubstrateRecord[]>();

  /**
   * The records a request's transaction writes. A repeat writes nothing, and may differ from what is
   * stored in what the rules ignore (a dispute statement's session): noting it would make the store
   * look behind.
   */
  willRelease(request: object, records: readonly SubstrateRecord[]): void {
    this.written.set(request, records);
  }

  /** After the commit: the request's written records are released. */
  released(id: number, request: object): void {
    const records = this.written.get(request);
    this.written.delete(request);
    if (records !== undefined) this.note(id, records);
  }

  private note(id: number, records: readonly SubstrateRecord[]): void {
    for (const r of records) {
      if (r.kind === "grandpa") this.setRounds.note(String(id), [r.setId, r.round]);
      else if (r.kind === "beefy") this.setRounds.note(String(id), [r.setId, r.blockNumber]);
      else if (r.kind === "babe") this.numbers.note(`slot:${id}`, r.slot);
      else if (r.session !== null) this.numbers.note(`session:${id}`, r.session);
    }
  }

  /** The refusal when the store is behind what was released for the key, else null. */
  behind(
    id: number,
    s: SubstrateKeyState,
    req: { keyType: string; publicKey: Uint8Array; records: readonly SubstrateRecord[] },
  ): SubstrateError | null {
    const stored: SetRound | null = s.lastSetId === null ? null : [s.lastSetId, s.lastRound ?? 0n];
    const checks = [
      ["set/round", this.setRounds.behind(String(id), stored)],
      ["slot", this.numbers.behind(`slot:${id}`, s.lastSlot)],
      ["session", this.numbers.behind(`session:${id}`, s.lastSession)],
    ] as const;
    for (const [track, b] of checks) {
      if (b === null) continue;
      const show = (p: SetRound | bigint | null): string | null =>
        p === null ? null : typeof p === "bigint" ? String(p) : `${p[0]}/${p[1]}`;
      return new SubstrateError({
        code: SubstrateErrorCode.StoreBehind,
        incoming: req.records[0]!,
        previous: { track, released: show(b.released)!, stored: show(b.stored) },
        keyType: req.keyType,
        publicKey: toHex(req.publicKey),
      });
    }
    return null;
  }
}
