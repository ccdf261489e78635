import {
  bls12381G1,
  DkgDealer,
  type DkgDealing,
  type DkgKeyResult,
  type DkgParams,
  finishDkg,
  ThresholdError,
  ThresholdErrorCode,
  transcriptHash,
  verifyDealing,
} from "../keys/index.js";
import { isAppError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import type { DkgRound, DkgWireMessage } from "./dkgWire.js";

/** What a DKG run needs of the cluster transport. */
export interface DkgLink {
  readonly peers: readonly number[];
  sendDkg(peer: number, msg: DkgWireMessage, timeoutMs: number): Promise<void>;
}

export interface DkgRunOptions extends DkgParams {
  session: string;
  /** Absolute deadline (ms since epoch) for the whole run. */
  deadline: number;
}

const EMPTY = new Uint8Array(0);

/**
 * One node's side of the DKG over the cluster transport (the steps are in keys/threshold/dkg.ts).
 * Messages may arrive before this node reaches their round; they wait in the inbox. A message that
 * fails verification aborts the run naming its sender, and the abort is sent to every peer so that
 * nobody waits for a run that cannot finish.
 */
export class DkgRun {
  private readonly inbox = new Map<DkgRound, Map<number, DkgWireMessage>>([
    [1, new Map()],
    [2, new Map()],
    [3, new Map()],
  ]);
  private waiters: (() => void)[] = [];
  private aborted: ThresholdError | null = null;
  readonly dealer: DkgDealer<ReturnType<typeof bls12381G1.baseMul>>;

  constructor(
    private readonly opts: DkgRunOptions,
    private readonly link: DkgLink,
    private readonly logger: Logger,
    /** Tests replace what this node deals to a peer (a dishonest participant). */
    private readonly tamper: (to: number, d: DkgDealing) => DkgDealing = (_to, d) => d,
  ) {
    this.dealer = new DkgDealer(bls12381G1, opts);
  }

  /** The transport's DKG handler: stores a peer's message for its round (a second, different one is a complaint). */
  async receive(from: number, m: DkgWireMessage): Promise<void> {
    if (m.session !== this.opts.session)
      throw new ThresholdError(
        { code: ThresholdErrorCode.DkgFailed, peer: from, reason: "session" },
        `DKG session ${m.session} is not ${this.opts.session}`,
      );
    if (m.round === 4) {
      this.abort(
        new ThresholdError(
          { code: ThresholdErrorCode.DkgFailed, peer: from, reason: m.reason },
          `DKG aborted by node ${from}: it complains about node ${m.accused}: ${m.reason}`,
        ),
      );
      return;
    }
    if (m.threshold !== this.opts.threshold || m.keys !== this.opts.keys) {
      this.abort(
        this.complaint(
          from,
          `runs threshold ${m.threshold} with ${m.keys} keys, not ${this.opts.threshold} with ${this.opts.keys}`,
        ),
      );
      return;
    }
    const box = this.inbox.get(m.round)!;
    if (box.has(from)) return; // a retried delivery
    box.set(from, m);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Runs the three rounds; resolves with this node's results or rejects with a typed error. */
  async run(): Promise<DkgKeyResult[]> {
    const { index, threshold, keys, session } = this.opts;
    const base = {
      session,
      threshold,
      keys,
      commitHash: EMPTY,
      commitments: [],
      shares: [],
      transcriptHash: EMPTY,
      accused: 0,
      reason: "",
    };
    try {
      await this.broadcast(() => ({ ...base, round: 1, commitHash: this.dealer.commitHash }));
      const hashes = await this.collect(1);
      await this.broadcast((to) => {
        const d = this.tamper(to, this.dealer.dealingFor(to));
        return { ...base, round: 2, commitments: d.commitments.flat(), shares: d.shares };
      });
      const received = await this.collect(2);
      const dealings: DkgDealing[] = [this.dealer.dealingFor(index)];
      for (const [from, m] of received) {
        const d: DkgDealing = {
          from,
          commitments: Array.from({ length: keys }, (_, k) => m.commitments.slice(k * threshold, (k + 1) * threshold)),
          shares: m.shares,
        };
        if (m.commitments.length !== keys * threshold)
          throw this.complaint(from, `sent ${m.commitments.length} commitments, expected ${keys * threshold}`);
        try {
          verifyDealing(bls12381G1, this.opts, hashes.get(from)!.commitHash, d);
        } catch (e) {
          throw isAppError(e) && e instanceof ThresholdError ? e : this.complaint(from, "sent an unreadable dealing");
        }
        dealings.push(d);
      }
      const transcript = transcriptHash(dealings);
      await this.broadcast(() => ({ ...base, round: 3, transcriptHash: transcript }));
      for (const [from, m] of await this.collect(3)) {
        if (Buffer.compare(m.transcriptHash, transcript) !== 0)
          throw new ThresholdError(
            { code: ThresholdErrorCode.DkgFailed, peer: from, reason: "transcript" },
            `DKG: node ${from} saw different commitments (a dealer sent different commitments to different nodes)`,
          );
      }
      return finishDkg(bls12381G1, this.opts, dealings);
    } catch (e) {
      const err =
        isAppError(e) && e instanceof ThresholdError
          ? e
          : new ThresholdError({ code: ThresholdErrorCode.DkgFailed, reason: String(e) }, `DKG failed: ${String(e)}`);
      if (err.code === ThresholdErrorCode.DkgComplaint && this.aborted === null) {
        const accused = err.type.code === ThresholdErrorCode.DkgComplaint ? err.type.peer : 0;
        // tell everyone, best effort, so that no node waits for a run that cannot finish
        await Promise.allSettled(
          this.link.peers.map((p) =>
            this.link.sendDkg(
              p,
              { ...base, round: 4, accused, reason: err.message },
              Math.max(100, Math.min(5000, this.remaining())),
            ),
          ),
        );
      }
      throw this.aborted ?? err;
    }
  }

  private complaint(peer: number, reason: string): ThresholdError {
    return new ThresholdError({ code: ThresholdErrorCode.DkgComplaint, peer, reason }, `DKG: node ${peer} ${reason}`);
  }

  private abort(e: ThresholdError): void {
    this.aborted ??= e;
    for (const w of this.waiters.splice(0)) w();
  }

  private remaining(): number {
    return this.opts.deadline - Date.now();
  }

  private async broadcast(msg: (to: number) => Omit<DkgWireMessage, never>): Promise<void> {
    const results = await Promise.allSettled(
      this.link.peers.map((p) => this.link.sendDkg(p, msg(p), Math.max(100, this.remaining()))),
    );
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        const peer = this.link.peers[i]!;
        this.logger.warn("DKG message not delivered", { peer });
        throw new ThresholdError(
          { code: ThresholdErrorCode.DkgFailed, peer, reason: "unreachable" },
          `DKG: node ${peer} did not take round messages: ${String((r.reason as Error).message ?? r.reason)}`,
        );
      }
    });
    if (this.aborted !== null) throw this.aborted;
  }

  /** Waits for every peer's message of a round (or the deadline, or an abort). */
  private async collect(round: 1 | 2 | 3): Promise<Map<number, DkgWireMessage>> {
    const box = this.inbox.get(round)!;
    while (box.size < this.link.peers.length) {
      if (this.aborted !== null) throw this.aborted;
      const left = this.remaining();
      if (left <= 0) {
        const missing = this.link.peers.filter((p) => !box.has(p));
        throw new ThresholdError(
          { code: ThresholdErrorCode.DkgFailed, peer: missing[0]!, reason: "timeout" },
          `DKG: no round ${round} message from node(s) ${missing.join(", ")} before the deadline`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    if (this.aborted !== null) throw this.aborted;
    return box;
  }
}
