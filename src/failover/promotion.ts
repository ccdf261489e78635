import type { ValidatorState } from "../chains/cometbft/index.js";
import { errorMessage } from "../util/errors.js";
import { FailoverError, FailoverErrorCode, RefusalReason, refused } from "./errors.js";
import type { FailoverEvent } from "./events.js";
import type { LeaseGrant, LeaseRecord } from "./lease/lease.js";
import type { LeaseKeeper } from "./lease/leaseKeeper.js";
import { lastSignedHeight, type SilenceProof, waitForSilence } from "./node/chainCheck.js";
import type { ValidatorKeyInfo } from "./node/keyFiles.js";
import { ensureDoubleSignCheckHeight } from "./node/nodeConfig.js";
import { runCommand } from "./node/nodeControl.js";
import { fsStateFileIo, type RaiseResult, stateAfterHeight } from "./node/stateFile.js";
import type { FailoverModules, FailoverOptions } from "./options.js";

export interface PromotionContext {
  opts: FailoverOptions;
  m: FailoverModules;
  keeper: LeaseKeeper;
  validatorKey: { info: ValidatorKeyInfo; content: string };
  /** Aborted when the lease is lost: every wait ends and the node start is killed. */
  signal: AbortSignal;
  /** Stops the local node, confirmed, then puts a dummy key in place; throws if it cannot stop it. */
  stopLocalNode(): Promise<void>;
  /** Puts the validator key where the node reads it. */
  installValidatorKey(content: string): Promise<void>;
  /** Starts the local node with the validator key; rejects (the start killed) when `signal` aborts. */
  startNode(signal: AbortSignal): Promise<void>;
  /** When this process first saw `epoch` ended (monotonic), or null if it has not. */
  endedSeenAt?: (epoch: bigint) => number | null;
}

export interface PromotionResult {
  grant: LeaseGrant;
  previous: LeaseRecord;
  /** How the old node was shown to be stopped. */
  confirmedBy: string;
  silence: SilenceProof;
  state: RaiseResult;
}

/**
 * The promotion checklist. Every step must pass, in this order, or nothing starts:
 * 1. the lease is won with a new epoch (from here on it is renewed, and the self-stop deadline runs);
 * 2. the old node is confirmed stopped: its holder released the lease saying so, or its failover daemon
 *    says so, or the configured stop command for it succeeded, or the lease ended longer ago than the old
 *    holder's stop timeout;
 * 3. the chain shows no signature of the validator for K consecutive new heights;
 * 4. with the local node stopped, priv_validator_state.json is raised to the highest of the local file,
 *    the copy synced from the old active (refreshed now) and the chain's last signed height + 1;
 * 5. double_sign_check_height is set, the validator key is put in place and the node started, each step
 *    only while the lease is still held.
 * On any failure the lease is released; once step 4 has begun, the dummy key also goes back and the node
 * is stopped (before that the passive node, running with its dummy key, is left alone).
 */
export async function promote(ctx: PromotionContext, reason: string): Promise<PromotionResult> {
  const { opts, m, keeper } = ctx;
  const sentAt = m.clock.now();
  if (ctx.signal.aborted) throw refused(RefusalReason.LeaseLost, "the promotion was cancelled");
  let acquired: { grant: LeaseGrant; previous: LeaseRecord };
  try {
    acquired = await m.lease.acquire({
      holder: opts.nodeId,
      ttlMs: opts.lease.ttlMs,
      stopTimeoutMs: opts.stopBoundMs,
      reason,
    });
  } catch (e) {
    if (e instanceof FailoverError && e.code === FailoverErrorCode.LeaseHeld) {
      throw refused(RefusalReason.LeaseHeld, errorMessage(e));
    }
    throw e;
  }
  const { grant, previous } = acquired;
  keeper.start(grant, sentAt);
  // A lost lease aborts the promotion at every step (the daemon also aborts `ctx.signal` at once).
  const held = (minRemainingMs = 0): void => {
    try {
      if (ctx.signal.aborted) throw new Error("aborted");
      keeper.assertHeld(minRemainingMs);
    } catch {
      throw refused(RefusalReason.LeaseLost, `lost the lease (epoch ${grant.epoch}) during the promotion`);
    }
  };
  // Until step 4 the local (passive, dummy-key) node is left alone; from there on it is ours to stop.
  let touched = false;
  try {
    const confirmedBy = await confirmOldStopped(ctx, previous, held);
    m.logger.info("Old node confirmed stopped", { previous: previous.holder, epoch: previous.epoch, confirmedBy });
    const silence = await waitForSilence(
      { validatorAddress: ctx.validatorKey.info.address, ...opts.chainCheck },
      { chain: m.chain, clock: m.clock, sleep: m.sleep, assertContinue: held },
    );
    m.logger.info("Chain check passed", { from: silence.from, to: silence.to });
    const candidates = await stateCandidates(ctx, previous);
    held();
    touched = true;
    await ctx.stopLocalNode();
    let state: RaiseResult;
    try {
      state = await (m.stateFiles ?? fsStateFileIo).raise(opts.files.stateFile, candidates, async () => {
        if (await m.node.isRunning()) {
          throw new FailoverError(
            { code: FailoverErrorCode.NodeRunning, file: opts.files.stateFile },
            "node is running",
          );
        }
      });
    } catch (e) {
      throw refused(RefusalReason.StateUnavailable, errorMessage(e));
    }
    if (opts.files.nodeConfigFile !== null) {
      await ensureDoubleSignCheckHeight(opts.files.nodeConfigFile, opts.doubleSignCheckHeight);
    }
    held();
    await ctx.installValidatorKey(ctx.validatorKey.content);
    // The start begins only with at least one renewal interval before the self-stop deadline, so it never
    // begins at the edge of the lease; a loss during the start kills it and stops the node at once
    // (daemon.onLeaseLost), so the node is stopped within the stop bound of the loss, however long a
    // start may take.
    held(opts.lease.renewIntervalMs);
    try {
      await ctx.startNode(ctx.signal);
    } catch (e) {
      held();
      throw refused(RefusalReason.NodeFailed, errorMessage(e));
    }
    held();
    return { grant, previous, confirmedBy, silence, state };
  } catch (e) {
    let stopped = true;
    if (touched) {
      try {
        await ctx.stopLocalNode();
      } catch (se) {
        stopped = false;
        m.logger.error("Could not stop the node after a failed promotion", {}, se);
      }
    }
    const g = keeper.held;
    keeper.stop();
    // Stopped (or never given the key): the next candidate may take over. Otherwise say so: nobody may
    // count on this node being stopped.
    if (g !== null) {
      await m.lease
        .release(g, { holderStopped: stopped, handoverTo: null })
        .catch((re: unknown) => m.logger.warn("Lease release failed", { epoch: g.epoch }, re));
    }
    throw e;
  }
}

/** The event of a promotion: the pair's first start (or our own lease again), a failover, or a failback. */
export function promotionEvent(r: PromotionResult, node: string, primary: boolean, reason: string): FailoverEvent {
  const s = r.state.after;
  const detail = `${reason}; old node: ${r.confirmedBy}; state ${s.height}/${s.round}/${s.step}`;
  const prev = r.previous.holder;
  if (prev === null || prev === node) return { kind: "activated", node, epoch: r.grant.epoch, reason: detail };
  return {
    kind: r.previous.handoverTo === node && primary ? "failback" : "failover",
    node,
    previousHolder: prev,
    epoch: r.grant.epoch,
    reason: detail,
    checkedHeights: `${r.silence.from}-${r.silence.to}`,
  };
}

/** Step 2: proof that the node of the previous holder no longer runs (polls until the confirm timeout). */
async function confirmOldStopped(ctx: PromotionContext, previous: LeaseRecord, held: () => void): Promise<string> {
  const { opts, m } = ctx;
  if (previous.epoch === 0n || previous.holder === null) return "no previous holder";
  // Our own previous epoch: our node is stopped before anything is written (stopLocalNode).
  if (previous.holder === opts.nodeId) return "previous holder is this node";
  if (previous.released && previous.holderStopped) return "released by its holder, node stopped";
  const peer = m.peers.get(previous.holder);
  const started = m.clock.now();
  // Counted on this host's monotonic clock from when it first saw the lease ended (never on another
  // host's wall clock), and never longer than the store says (its clock, or etcd's first sight): a
  // stepped store clock cannot make an expiry look old, and a restarted daemon waits the full time.
  const seenAt = Math.min(ctx.endedSeenAt?.(previous.epoch) ?? started, started);
  const storeAgoAtStart = previous.endedAgoMs ?? 0;
  const endedAgo = (): number => Math.min(storeAgoAtStart + (m.clock.now() - started), m.clock.now() - seenAt);
  // The longer of the bound the old holder announced and our own: a holder that announced too little
  // (an older version, a different config) is not trusted below what we know a stop can take.
  const waitMs = Math.max(previous.stopTimeoutMs, opts.stopBoundMs);
  // A holder that released saying its node could NOT be stopped is never counted stopped by time alone.
  const timeRuleAllowed = !(previous.released && !previous.holderStopped);
  for (;;) {
    held();
    const view = await m.peers.status(previous.holder);
    // Only an authenticated peer's word counts (Peers returns null otherwise), and only a settled passive
    // whose node is confirmed stopped: a node that is starting is reported running.
    if (view?.authenticated && view.nodeRunning === false && !view.starting && view.role === "passive") {
      return "its failover daemon";
    }
    if (peer?.stopCommand !== undefined) {
      const r = await runCommand(peer.stopCommand, opts.stopTimeoutMs);
      if (r.exitCode === 0) return "the stop command for it";
      m.logger.warn("Stop command for the old node failed", { peer: peer.id, exitCode: r.exitCode, output: r.output });
    }
    if (timeRuleAllowed && endedAgo() >= waitMs) return `lease ended ${Math.round(endedAgo())} ms ago`;
    if (m.clock.now() - started > opts.confirmStoppedTimeoutMs) {
      throw refused(RefusalReason.OldNotStopped, `no proof that ${previous.holder}'s node stopped`);
    }
    await m.sleep(opts.chainCheck.pollMs);
  }
}

/** Step 4's inputs: our synced copy, the old active's file read now, and the chain's last signature + 1. */
async function stateCandidates(ctx: PromotionContext, previous: LeaseRecord): Promise<(ValidatorState | null)[]> {
  const { opts, m } = ctx;
  const fromPeer =
    previous.holder !== null && previous.holder !== opts.nodeId ? await m.peers.validatorState(previous.holder) : null;
  let synced: ValidatorState | null = null;
  try {
    synced = await (m.stateFiles ?? fsStateFileIo).read(opts.files.syncedStateFile);
  } catch (e) {
    m.logger.warn("Synced state copy unreadable; ignoring it", { file: opts.files.syncedStateFile }, e);
  }
  let chain: ValidatorState | null = null;
  try {
    const latest = (await m.chain.status()).latestHeight;
    const h = await lastSignedHeight(m.chain, ctx.validatorKey.info.address, latest, opts.lookbackHeights);
    chain = h === null ? null : stateAfterHeight(h);
  } catch (e) {
    throw refused(RefusalReason.StateUnavailable, `cannot read the chain's last signature: ${errorMessage(e)}`);
  }
  m.logger.info("State candidates", {
    synced: synced?.height,
    fromPeer: fromPeer?.height,
    chain: chain?.height,
  });
  return [synced, fromPeer, chain];
}
