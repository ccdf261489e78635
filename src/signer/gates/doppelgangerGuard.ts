import type { BeaconApi } from "../../chains/ethereum/index.js";
import {
  applyRound,
  type ChainTime,
  chainTimeOf,
  DOPPELGANGER_GUARDED_TYPES,
  DOPPELGANGER_STATUSES,
  describeBeaconFailure,
  epochAt,
  type LivenessObservation,
  lastSlot,
  nextCheckTimeMs,
  registerKey,
  roundEpochs,
} from "../../chains/ethereum/index.js";
import type { DoppelgangerMetrics } from "../../detect/index.js";
import {
  type DetectedKey,
  DoppelgangerError,
  DoppelgangerErrorCode,
  type DoppelgangerEvents,
  type DoppelgangerKeyStatus,
  DoppelgangerSharedState,
  detailOf,
  type GuardEntry,
  OwnActivity,
} from "../../detect/index.js";
import type { Store } from "../../store/index.js";
import { ethDoppelgangerRepository, ethValidatorsRepository } from "../../store/index.js";
import type { Clock } from "../../util/clock.js";
import { ClockLoop } from "../../util/clockLoop.js";
import { toHex } from "../../util/hex.js";
import { type Logger, shortKey } from "../../util/logger.js";
import type { SigningGate } from "../../util/signingGate.js";

export interface DoppelgangerGuardOptions {
  /** Silent epochs a key needs before it signs. */
  epochs: number;
  /** Ours: a beacon node of another network is not asked (it would call every key silent). */
  genesisValidatorsRoot: Uint8Array;
  /** Who detected a key, in the shared store (e.g. "signer@host:port"). */
  instance: string;
}

export interface DoppelgangerGuardModules {
  beacon: BeaconApi;
  store: Store;
  clock: Clock;
  logger: Logger;
  events?: DoppelgangerEvents;
  metrics?: DoppelgangerMetrics | null;
}

/** Retry interval while the chain's genesis and slot length are unknown (no beacon node answered yet). */
const RETRY_MS = 3000;

/**
 * The doppelganger guard at start (a SigningGate): a key loaded, imported or re-enabled is refused
 * until the beacon nodes have shown it silent for the configured epochs, from the epoch after its
 * start, asked at three quarters of every slot (Lighthouse's and Lodestar's rules, chains/ethereum/
 * doppelgangerRules.ts). A key live meanwhile, not by our own hand, is doppelganger_detected: refused
 * by every signer sharing the store until an operator clears it. Restart skip: a key our store shows
 * signing through slashguard in the previous epoch is verified at once.
 */
export class DoppelgangerGuard implements SigningGate {
  private readonly keys = new Map<string, GuardEntry>();
  private readonly shared: DoppelgangerSharedState;
  private time: ChainTime | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: string | null = null;
  private readonly loop: ClockLoop;

  constructor(
    private readonly opts: DoppelgangerGuardOptions,
    private readonly m: DoppelgangerGuardModules,
  ) {
    this.shared = new DoppelgangerSharedState(m.store, opts.instance, m.logger);
    // the first round at once: it learns the chain's time and finds detections and restarts in the store
    this.loop = new ClockLoop(
      { runAtStart: true },
      {
        clock: m.clock,
        next: (now) => (this.time === null ? now + RETRY_MS : nextCheckTimeMs(this.time, now)),
        run: () => this.tick(),
      },
    );
  }

  assertMaySign(pubkey: string, kind: string): void {
    if (!DOPPELGANGER_GUARDED_TYPES.has(kind)) return;
    const e = this.keys.get(pubkey);
    const s = e?.state ?? null;
    if (s?.status === "verified") return;
    const detail = e === undefined ? "the doppelganger guard does not know this key" : this.detail(e);
    if (s?.status === "doppelganger_detected")
      throw new DoppelgangerError(
        { code: DoppelgangerErrorCode.Detected, pubkey, epoch: s.detectedEpoch, detail },
        detail,
      );
    throw new DoppelgangerError({ code: DoppelgangerErrorCode.Unverified, pubkey, detail }, detail);
  }

  /** Keys that became active (loaded, imported, re-enabled): each starts over as unverified. */
  activate(pubkeys: readonly string[]): void {
    const now = this.m.clock.nowMs();
    for (const pubkey of pubkeys) {
      this.keys.set(pubkey, {
        pubkey,
        validatorId: null,
        index: null,
        indexMissingEpoch: null,
        activatedMs: now,
        state: null,
        persisted: false,
        detectedDetail: null,
        cleared: null,
      });
    }
    this.updateMetrics();
    // register at once: the restart skip lets a restarted signer sign without waiting for the next slot
    void this.serial(async () => {
      if (this.time !== null) await this.prepare();
    }).catch((e) => this.m.logger.warn("Doppelganger registration failed", {}, e));
  }

  /** Keys that left this signer (keymanager delete). */
  deactivate(pubkeys: readonly string[]): void {
    const ids = pubkeys.flatMap((p) => {
      const id = this.keys.get(p)?.validatorId;
      this.keys.delete(p);
      return id === null || id === undefined ? [] : [id];
    });
    this.updateMetrics();
    void this.serial(() => this.m.store.tx((tx) => ethDoppelgangerRepository.release(tx, ids))).catch((e) =>
      this.m.logger.warn("Doppelganger release failed", { keys: ids.length }, e),
    );
  }

  statuses(): DoppelgangerKeyStatus[] {
    return [...this.keys.values()].map((e) => ({
      pubkey: e.pubkey,
      index: e.index,
      status: e.state?.status ?? "unverified",
      checkedEpochs: e.state?.checkedEpochs ?? 0,
      remainingEpochs: e.state?.remainingEpochs ?? this.opts.epochs,
      sinceEpoch: e.state === null || e.state.sinceEpoch < 0n ? null : e.state.sinceEpoch,
      state: e.state,
      detail: this.detail(e),
    }));
  }

  /** An operator clears a detection: the key starts over as unverified (checked again from now on). */
  clear(pubkey: string, by: string): Promise<DoppelgangerKeyStatus> {
    return this.serial(async () => {
      const e = this.keys.get(pubkey);
      if (e === undefined)
        throw new DoppelgangerError(
          { code: DoppelgangerErrorCode.NotFound, pubkey },
          "no key loaded for this public key",
        );
      const status = e.state?.status ?? "unverified";
      if (status !== "doppelganger_detected")
        throw new DoppelgangerError(
          { code: DoppelgangerErrorCode.NotDetected, pubkey, status },
          `the key is ${status}, not doppelganger_detected`,
        );
      const at = this.m.clock.nowMs();
      if (e.validatorId !== null) {
        const id = e.validatorId;
        await this.m.store.tx((tx) => ethDoppelgangerRepository.clear(tx, id, by, at));
      }
      this.restart(e, at, { by, at });
      this.m.logger.warn("Doppelganger detection cleared by an operator", { pubkey: shortKey(pubkey), by });
      this.m.events?.cleared(pubkey, by);
      this.updateMetrics();
      return this.statuses().find((s) => s.pubkey === pubkey)!;
    });
  }

  /** Polls at three quarters of every slot until stop(). */
  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.queue.catch(() => {});
  }

  /** One round now: registration, shared state, liveness of every key still unverified. */
  tick(): Promise<void> {
    return this.serial(async () => {
      try {
        await this.round();
        this.m.metrics?.rounds.inc({ result: "ok" });
        this.setFailure(null);
      } catch (e) {
        this.m.metrics?.rounds.inc({ result: "failed" });
        this.setFailure(describeBeaconFailure(e));
      }
      this.updateMetrics();
    });
  }

  private async round(): Promise<void> {
    if (this.time === null) {
      const genesis = await this.m.beacon.genesis(this.opts.genesisValidatorsRoot);
      this.time = chainTimeOf(genesis, await this.m.beacon.spec());
    }
    const t = this.time;
    const epoch = await this.prepare();
    const waiting = [...this.keys.values()].filter((e) => e.state?.status === "unverified" && e.validatorId !== null);
    if (waiting.length === 0) return;
    // new keys at once; keys without a deposit on chain yet again once per epoch
    const lookup = waiting.filter((e) => e.index === null && (e.indexMissingEpoch ?? -1n) < epoch);
    if (lookup.length > 0) {
      const found = await this.m.beacon.validatorIndices(lookup.map((e) => e.pubkey));
      for (const e of lookup) {
        e.index = found.get(e.pubkey)?.index ?? null;
        e.indexMissingEpoch = e.index === null ? epoch : null;
      }
    }
    const asked = waiting.filter((e) => e.index !== null);
    const requestMs = this.m.clock.nowMs();
    const epochs = roundEpochs(t, requestMs);
    if (asked.length === 0 || epochs.length === 0) return;
    const answer = await this.m.beacon.liveness(
      epochs,
      asked.map((e) => e.index!),
    );
    const responseMs = this.m.clock.nowMs();
    const live = asked.filter((e) => epochs.some((ep) => answer.byEpoch.get(ep)?.get(e.index!) === true));
    const ours =
      live.length === 0
        ? null
        : await this.m.store.tx(
            (tx) =>
              OwnActivity.load(
                tx,
                t,
                live.map((e) => e.validatorId!),
                epochs[0]!,
                epochs[epochs.length - 1]!,
              ),
            { readOnly: true },
          );
    const detected: DetectedKey[] = [];
    const verified: GuardEntry[] = [];
    for (const e of asked) {
      const observations: LivenessObservation[] = [];
      for (const ep of epochs) {
        const v = answer.byEpoch.get(ep)?.get(e.index!);
        if (v !== undefined)
          observations.push({ epoch: ep, live: v, ours: v && ours?.explains(e.validatorId!, ep) === true });
      }
      const before = e.state!;
      const after = applyRound(before, { requestMs, responseMs, observations }, t);
      e.state = after;
      if (after.checkedEpochs > before.checkedEpochs) this.m.metrics?.epochsChecked.inc();
      if (after.status === "verified") verified.push(e);
      if (after.status === "doppelganger_detected") {
        e.detectedDetail = `live in epoch ${after.detectedEpoch} on ${answer.node} while this signer refused to sign with it`;
        detected.push({
          pubkey: e.pubkey,
          index: e.index,
          epoch: after.detectedEpoch!,
          detail: e.detectedDetail,
          node: answer.node,
        });
      }
    }
    if (detected.length > 0) {
      this.m.metrics?.detections.inc(detected.length);
      for (const d of detected)
        this.m.logger.error("Doppelganger detected: refusing to sign with this key", {
          pubkey: shortKey(d.pubkey),
          index: d.index,
          epoch: d.epoch,
          node: d.node,
        });
      // reported first: refused in memory already, the store write is retried every round until it lands
      this.m.events?.detected(detected);
      await this.shared.persist([...this.keys.values()], this.m.clock.nowMs());
    }
    if (verified.length > 0) {
      await this.shared.hold(verified, epoch);
      this.m.logger.info("Doppelganger check passed: keys may sign", { keys: verified.length, epoch });
    }
  }

  /** Registration, shared detections and the per-epoch work, before any liveness question; returns the epoch. */
  private async prepare(): Promise<bigint> {
    await this.register();
    const now = this.m.clock.nowMs();
    await this.shared.sync([...this.keys.values()], now, (e) =>
      this.restart(e, now, { by: "another slashguard process", at: now }),
    );
    const epoch = epochAt(this.time!, now);
    await this.shared.perEpoch([...this.keys.values()], epoch);
    return epoch;
  }

  /** Gives every key activated so far its state (needs chain time and the key's row in the store). */
  private async register(): Promise<void> {
    const t = this.time!;
    const pending = [...this.keys.values()].filter((e) => e.state === null);
    if (pending.length === 0) return;
    const rows = await this.m.store.tx(
      (tx) =>
        ethValidatorsRepository.list(
          tx,
          pending.map((e) => Buffer.from(e.pubkey.slice(2), "hex")),
        ),
      { readOnly: true },
    );
    const ids = new Map(rows.map((r) => [toHex(r.pubkey), r.id]));
    for (const e of pending) {
      const id = ids.get(e.pubkey);
      if (id === undefined) continue; // not registered by the signer: stays refused
      e.validatorId = id;
      e.state = registerKey(epochAt(t, e.activatedMs), this.opts.epochs);
    }
    this.shared.keysAdded();
  }

  private restart(e: GuardEntry, at: number, cleared: { by: string; at: number }): void {
    e.activatedMs = at;
    e.state = this.time === null ? null : registerKey(epochAt(this.time, at), this.opts.epochs);
    e.persisted = false;
    e.detectedDetail = null;
    e.cleared = cleared;
  }

  private setFailure(reason: string | null): void {
    if (reason === this.failure) return;
    const was = this.failure;
    this.failure = reason;
    if (reason === null) {
      this.m.logger.info("Doppelganger check running again");
      if (was !== null) this.m.events?.checkRecovered();
      return;
    }
    const waiting = [...this.keys.values()].filter((e) => (e.state?.status ?? "unverified") === "unverified").length;
    this.m.logger.error("Doppelganger check cannot progress: keys stay refused", { reason, waiting });
    this.m.events?.checkFailed(reason, waiting);
  }

  private detail(e: GuardEntry): string {
    return detailOf(e.state, {
      index: e.index,
      failure: this.failure,
      detected: e.detectedDetail,
      cleared: e.cleared,
      hasIndexLookup: e.indexMissingEpoch !== null,
      lastSlotOf: (epoch) => (this.time === null ? null : lastSlot(this.time, epoch)),
    });
  }

  private updateMetrics(): void {
    const g = this.m.metrics?.keys;
    if (g === undefined) return;
    const counts = new Map<string, number>(DOPPELGANGER_STATUSES.map((s) => [s, 0]));
    for (const e of this.keys.values()) {
      const s = e.state?.status ?? "unverified";
      counts.set(s, counts.get(s)! + 1);
    }
    for (const [status, n] of counts) g.set({ status }, n);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
