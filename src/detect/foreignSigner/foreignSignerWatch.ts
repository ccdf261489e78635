import type { BeaconApi } from "../../chains/ethereum/index.js";
import {
  type ChainTime,
  chainTimeOf,
  describeBeaconFailure,
  epochAt,
  firstSlot,
  lastSlot,
  loadEthSszTypes,
  type Preset,
  slotAt,
  slotTimeMs,
} from "../../chains/ethereum/index.js";
import type { Store } from "../../store/index.js";
import {
  ethActivityRepository,
  ethDoppelgangerRepository,
  ethKeyHostsRepository,
  ethValidatorsRepository,
  sweepRepository,
} from "../../store/index.js";
import type { Clock } from "../../util/clock.js";
import { ClockLoop } from "../../util/clockLoop.js";
import { type Logger, shortKey } from "../../util/logger.js";
import type { ForeignSignerMetrics } from "../doppelganger/doppelgangerMetrics.js";
import { OnchainEvidenceScanner } from "../onchainEvidence.js";
import { OwnActivity } from "../ownActivity.js";
import { signerEventDedupKey, toDetection } from "../signerEvents.js";
import type { Detection } from "../types.js";
import { foreignDetections, type PeerView } from "./foreignSignerDetections.js";
import { buildForeignBatch, peerViews } from "./foreignSignerInput.js";
import type { ForeignSignerScanner } from "./foreignSignerScanner.js";

export interface ForeignSignerWatchOptions {
  /** Owner of alerts for keys no fleet agent reports (null: no owner, admins see them). */
  ownerId: number | null;
  /** Remote-signer origins that count as ours; empty: every remote signer. */
  expectedSigners: readonly string[];
  /** Process-wide SSZ preset already chosen (`up` shares the process with the signer); else the node's. */
  preset?: Preset;
}

export interface ForeignSignerWatchModules {
  beacon: BeaconApi;
  store: Store;
  clock: Clock;
  logger: Logger;
  scanner: ForeignSignerScanner;
  metrics?: ForeignSignerMetrics | null;
  /** Findings of a pass (raised as alerts by cli). */
  onDetections(d: Detection[]): Promise<void>;
  /** Events whose condition an operator ended (a doppelganger detection cleared on a signer). */
  onCleared(dedupKeys: string[]): Promise<void>;
  /** The pass could not run (reason) or runs again (null). */
  onCheckState(reason: string | null): Promise<void>;
}

const RETRY_MS = 3000;

/**
 * The continuous foreign-signer check: once per epoch, at three quarters of its last slot, for every
 * key of our signing log — the chain's liveness of the last two epochs against our records, and every
 * attestation and block of those epochs on chain against what we signed.
 */
export class ForeignSignerWatch {
  private time: ChainTime | null = null;
  private evidence: OnchainEvidenceScanner | null = null;
  private readonly indices = new Map<string, number>();
  private indexEpoch = -1n;
  private failure: string | null = null;
  private clearedSince = 0;
  private readonly loop: ClockLoop;

  constructor(
    private readonly opts: ForeignSignerWatchOptions,
    private readonly m: ForeignSignerWatchModules,
  ) {
    this.loop = new ClockLoop(
      { runAtStart: false },
      {
        clock: m.clock,
        next: (now) => (this.time === null ? now + RETRY_MS : nextPassMs(this.time, now)),
        run: () => this.pass(),
      },
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass now (the window ends with the current epoch). Failures are reported, never thrown. */
  async pass(): Promise<Detection[]> {
    const started = performance.now();
    try {
      const found = await this.run();
      this.m.metrics?.passes.inc({ result: "ok" });
      this.m.metrics?.passSeconds.observe((performance.now() - started) / 1000);
      await this.setFailure(null);
      return found;
    } catch (e) {
      this.m.metrics?.passes.inc({ result: "failed" });
      await this.setFailure(describeBeaconFailure(e));
      return [];
    }
  }

  private async run(): Promise<Detection[]> {
    const root = await this.m.store.tx((tx) => ethValidatorsRepository.getGenesisRoot(tx), { readOnly: true });
    if (this.time === null) {
      const genesis = await this.m.beacon.genesis(root ?? undefined);
      const spec = await this.m.beacon.spec();
      const preset = this.opts.preset ?? (spec.presetBase === "minimal" ? "minimal" : "mainnet");
      this.time = chainTimeOf(genesis, spec);
      this.evidence = new OnchainEvidenceScanner(
        this.m.beacon,
        await loadEthSszTypes(preset),
        genesis.genesisValidatorsRoot,
        this.time,
        this.m.logger,
      );
    }
    const t = this.time;
    const now = this.m.clock.nowMs();
    const cur = epochAt(t, now);
    if (cur < 1n) return [];
    const prev = cur - 1n;
    const keys = await this.m.store.tx((tx) => ethActivityRepository.enabledKeys(tx), { readOnly: true });
    this.m.metrics?.keysWatched.set(keys.length);
    if (keys.length === 0) return [];
    const missing = keys.filter((k) => !this.indices.has(k.pubkey));
    if (missing.length > 0 && cur > this.indexEpoch) {
      for (const [pubkey, v] of await this.m.beacon.validatorIndices(missing.map((k) => k.pubkey)))
        this.indices.set(pubkey, v.index);
      this.indexEpoch = cur;
    }
    const watched = keys.filter((k) => this.indices.has(k.pubkey));
    const byIndex = new Map(watched.map((k) => [this.indices.get(k.pubkey)!, k.validatorId]));
    const live = await this.m.beacon.liveness([prev, cur], [...byIndex.keys()]);
    const ids = watched.map((k) => k.validatorId);
    const { ours, hosts, inMaintenance } = await this.m.store.tx(
      async (tx) => ({
        ours: await OwnActivity.load(tx, t, ids, prev, cur),
        hosts: await ethKeyHostsRepository.present(tx),
        inMaintenance: await sweepRepository.hostsInMaintenance(tx, now),
      }),
      { readOnly: true },
    );
    const onchain = await this.evidence!.scan(firstSlot(t, prev), slotAt(t, now), {
      watched: byIndex,
      ours,
      fork: await this.m.beacon.fork(),
      fromEpoch: prev,
      toEpoch: cur,
    });

    const peers = peerViews(hosts, inMaintenance, (url) => this.isExpectedSigner(url));
    const { batch, contexts } = buildForeignBatch(
      watched.map((k) => ({ validatorId: k.validatorId, pubkey: k.pubkey, index: this.indices.get(k.pubkey)! })),
      { prev, cur },
      live,
      ours,
      onchain,
      peers,
    );
    const result = await this.m.scanner.scan(batch);
    const found = [
      ...foreignDetections(contexts, result, { prev, cur, node: live.node, ownerId: this.opts.ownerId }),
      ...(await this.signerDetections(peers, now)),
    ];
    for (const d of found)
      for (const s of (d.evidence.signals as string[]) ?? []) this.m.metrics?.detections.inc({ signal: s });
    if (found.length > 0) {
      this.m.logger.error("Foreign signer: the chain shows keys signing that slashguard did not sign", {
        keys: found.length,
        epoch: cur,
      });
      await this.m.onDetections(found);
    }
    this.m.logger.debug("Foreign-signer pass", { epoch: cur, keys: watched.length, findings: found.length });
    return found;
  }

  /**
   * Doppelganger detections that signers sharing this store recorded: alerts here too (a signer
   * without --monitor-url still reaches the monitor through the store); cleared ones resolve.
   */
  private async signerDetections(peers: Map<string, PeerView>, now: number): Promise<Detection[]> {
    const { rows, cleared } = await this.m.store.tx(
      async (tx) => ({
        rows: await ethDoppelgangerRepository.detected(tx),
        cleared: await ethDoppelgangerRepository.clearedSince(tx, this.clearedSince),
      }),
      { readOnly: true },
    );
    const owner = (pubkey: string): number | null => peers.get(pubkey)?.ownerId ?? this.opts.ownerId;
    if (cleared.length > 0)
      await this.m.onCleared(
        cleared.map((c) => signerEventDedupKey("doppelganger_detected", owner(c.pubkey), c.pubkey, "")),
      );
    this.clearedSince = now;
    return rows.map((r) =>
      toDetection(
        {
          action: "raise",
          kind: "doppelganger_detected",
          pubkey: r.pubkey,
          source: r.by,
          confidence: 1,
          summary: `Ethereum key ${shortKey(r.pubkey)} was found live on the network by ${r.by} while it refused to sign with it: another signer uses this key`,
          evidence: { epoch: String(r.epoch), detail: r.detail, detected_at: new Date(r.at).toISOString() },
        },
        owner(r.pubkey),
      ),
    );
  }

  private isExpectedSigner(url: string | null): boolean {
    if (this.opts.expectedSigners.length === 0) return true;
    if (url === null) return false;
    try {
      const origin = new URL(url).origin.toLowerCase();
      return this.opts.expectedSigners.some((s) => new URL(s).origin.toLowerCase() === origin);
    } catch {
      return false;
    }
  }

  private async setFailure(reason: string | null): Promise<void> {
    if (reason === this.failure) return;
    this.failure = reason;
    if (reason !== null) this.m.logger.error("Foreign-signer check cannot run", { reason });
    else this.m.logger.info("Foreign-signer check running");
    await this.m
      .onCheckState(reason)
      .catch((e) => this.m.logger.warn("Foreign-signer check state not reported", {}, e));
  }
}

/** Three quarters into the last slot of the current epoch (or of the next, when that moment is past). */
function nextPassMs(t: ChainTime, now: number): number {
  const e = epochAt(t, now);
  const epoch = e < 0n ? 0n : e;
  const at = slotTimeMs(t, lastSlot(t, epoch), 0.75);
  return at > now ? at : slotTimeMs(t, lastSlot(t, epoch + 1n), 0.75);
}
