import { type DoppelgangerState, markDetected, skipForRestart } from "../../chains/ethereum/index.js";
import type { Store } from "../../store/index.js";
import { ethDoppelgangerRepository } from "../../store/index.js";
import { type Logger, shortKey } from "../../util/logger.js";

/** One key the guard holds. */
export interface GuardEntry {
  pubkey: string;
  validatorId: number | null;
  index: number | null;
  /** Epoch of the last index lookup that found none (no deposit yet): asked again once per epoch. */
  indexMissingEpoch: bigint | null;
  activatedMs: number;
  state: DoppelgangerState | null;
  /** The detection is in the store (or came from it): its absence there later means an operator cleared it. */
  persisted: boolean;
  detectedDetail: string | null;
  cleared: { by: string; at: number } | null;
}

/**
 * What the guard keeps in the store shared by every signer (and read by the monitor): detections,
 * and the per-epoch heartbeat of keys held verified, which the restart skip relies on.
 */
export class DoppelgangerSharedState {
  private heldEpoch = -1n;
  private skipEpoch = -1n;

  constructor(
    private readonly store: Store,
    /** Who detects, as recorded in the store. */
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  /** New keys were registered: look for the restart skip again in this epoch. */
  keysAdded(): void {
    this.skipEpoch = -1n;
  }

  /** Writes detections not in the store yet (they are refused in memory already). */
  async persist(entries: readonly GuardEntry[], at: number): Promise<void> {
    const todo = entries.filter((e) => e.state?.status === "doppelganger_detected" && !e.persisted);
    if (todo.length === 0) return;
    await this.store.tx((tx) =>
      ethDoppelgangerRepository.markDetected(
        tx,
        todo.map((e) => ({
          validatorId: e.validatorId!,
          epoch: e.state!.detectedEpoch!,
          at,
          by: this.instance,
          detail: e.detectedDetail ?? "",
        })),
      ),
    );
    for (const e of todo) e.persisted = true;
  }

  /**
   * The store is the truth for every signer sharing it: a key another signer (or the monitor)
   * detected is refused here too; a persisted detection that vanished was cleared (`onCleared`).
   */
  async sync(entries: readonly GuardEntry[], at: number, onCleared: (e: GuardEntry) => void): Promise<void> {
    await this.persist(entries, at);
    const rows = await this.store.tx((tx) => ethDoppelgangerRepository.detected(tx), { readOnly: true });
    const byId = new Map(rows.map((r) => [r.validatorId, r]));
    for (const e of entries) {
      if (e.state === null || e.validatorId === null) continue;
      const row = byId.get(e.validatorId);
      if (row !== undefined && e.state.status !== "doppelganger_detected") {
        e.state = markDetected(e.state, row.epoch, "shared");
        e.detectedDetail = `${row.detail} (found by ${row.by})`;
        e.persisted = true;
        this.logger.error("Doppelganger detection in the shared store: refusing this key", {
          pubkey: shortKey(e.pubkey),
        });
      } else if (row === undefined && e.state.status === "doppelganger_detected" && e.persisted) onCleared(e);
    }
  }

  /** Heartbeat: these keys are held verified here in `epoch`. */
  async hold(entries: readonly GuardEntry[], epoch: bigint): Promise<void> {
    const ids = entries.map((e) => e.validatorId!);
    await this.store.tx((tx) => ethDoppelgangerRepository.hold(tx, ids, epoch));
  }

  /**
   * Once per epoch: the heartbeat of every verified key, and the restart skip for keys still
   * unverified (signed through slashguard, and held here, in the previous epoch).
   */
  async perEpoch(entries: readonly GuardEntry[], epoch: bigint): Promise<void> {
    const all = entries.filter((e) => e.validatorId !== null);
    if (epoch > this.heldEpoch) {
      await this.hold(
        all.filter((e) => e.state?.status === "verified"),
        epoch,
      );
      this.heldEpoch = epoch;
    }
    if (epoch <= this.skipEpoch || epoch < 1n) return;
    const unverified = all.filter((e) => e.state?.status === "unverified");
    const ids = unverified.map((e) => e.validatorId!);
    const skip = await this.store.tx((tx) => ethDoppelgangerRepository.signedAndHeldIn(tx, ids, epoch - 1n), {
      readOnly: true,
    });
    this.skipEpoch = epoch;
    const skipped = unverified.filter((e) => skip.has(e.validatorId!));
    if (skipped.length === 0) return;
    for (const e of skipped) e.state = skipForRestart(e.state!);
    await this.hold(skipped, epoch);
    this.logger.info("Doppelganger check skipped: these keys signed through slashguard in the previous epoch", {
      keys: skipped.length,
      epoch: epoch - 1n,
    });
  }
}
