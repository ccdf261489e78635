import { signedBy } from "../chains/cometbft/index.js";
import { errorMessage } from "../util/errors.js";
import type { Monotonic } from "./monotonic.js";
import type { ChainRpc, EvmRpc } from "./peers/rpcClient.js";

export type CheckName = "status" | "catching_up" | "height" | "peers" | "evm" | "signing";

export interface CheckResult {
  name: CheckName;
  ok: boolean;
  detail: string;
}

export interface HealthReport {
  ok: boolean;
  /** Wall-clock time of the sample (for /status). */
  at: string;
  checks: CheckResult[];
  latestHeight: bigint | null;
}

export interface HealthCheckerOptions {
  validatorAddress: string;
  minPeers: number;
  /** The height (CometBFT and EVM) must have grown within this long. */
  stallMs: number;
  /** Active node: at least one own signature among the last this many commits. */
  signingWindow: number;
  /** Most commits fetched per check (a node far behind is scanned from its recent heights only). */
  maxCommitsPerCheck: number;
}

interface Progress {
  height: bigint;
  changedAt: number;
}

/**
 * "Is my node producing and signing": /status answers, not catching up, height moving; /net_info peers;
 * the EVM block number moving; and, while this node should sign, its signature in recent commits. It also
 * follows the validator's last signed height on chain for every role (the chain check and /status use it).
 */
export class HealthChecker {
  private comet: Progress | null = null;
  private evm: Progress | null = null;
  /** Next height whose commit has not been looked at. */
  private nextCommit: bigint | null = null;
  /** Signed-or-not of the last commits scanned since the signing window was reset. */
  private recent: boolean[] = [];
  private lastSigned: bigint | null = null;

  constructor(
    private readonly opts: HealthCheckerOptions,
    private readonly m: { chain: ChainRpc; evm: EvmRpc | null; clock: Monotonic },
  ) {}

  /** Highest height whose commit carries the validator's signature, as far as this checker has seen. */
  get lastSignedHeight(): bigint | null {
    return this.lastSigned;
  }

  /** Starts the signing window afresh (a node that just started has not signed yet). */
  resetSigning(): void {
    this.recent = [];
  }

  async check(expectSigning: boolean): Promise<HealthReport> {
    const now = this.m.clock.now();
    const checks: CheckResult[] = [];
    let latest: bigint | null = null;
    try {
      const st = await this.m.chain.status();
      latest = st.latestHeight;
      checks.push({ name: "status", ok: true, detail: `height ${st.latestHeight}` });
      checks.push({ name: "catching_up", ok: !st.catchingUp, detail: st.catchingUp ? "catching up" : "synced" });
      this.comet = advance(this.comet, st.latestHeight, now);
      checks.push(this.moving("height", this.comet, now));
    } catch (e) {
      checks.push({ name: "status", ok: false, detail: errorMessage(e) });
    }
    try {
      const ni = await this.m.chain.netInfo();
      const ok = ni.nPeers >= this.opts.minPeers;
      checks.push({ name: "peers", ok, detail: `${ni.nPeers} peers (min ${this.opts.minPeers})` });
    } catch (e) {
      checks.push({ name: "peers", ok: false, detail: errorMessage(e) });
    }
    if (this.m.evm !== null) {
      try {
        this.evm = advance(this.evm, await this.m.evm.blockNumber(), now);
        checks.push(this.moving("evm", this.evm, now));
      } catch (e) {
        checks.push({ name: "evm", ok: false, detail: errorMessage(e) });
      }
    }
    if (latest !== null) {
      try {
        await this.scanCommits(latest);
      } catch (e) {
        if (expectSigning) checks.push({ name: "signing", ok: false, detail: errorMessage(e) });
      }
    }
    if (expectSigning && !checks.some((c) => c.name === "signing")) checks.push(this.signing());
    return { ok: checks.every((c) => c.ok), at: new Date().toISOString(), checks, latestHeight: latest };
  }

  private moving(name: CheckName, p: Progress, now: number): CheckResult {
    const still = now - p.changedAt;
    return still <= this.opts.stallMs
      ? { name, ok: true, detail: `height ${p.height}` }
      : { name, ok: false, detail: `height ${p.height} has not moved for ${Math.round(still)} ms` };
  }

  private signing(): CheckResult {
    const n = this.recent.length;
    if (n < this.opts.signingWindow) return { name: "signing", ok: true, detail: `${n} commits seen since start` };
    const last = this.recent.slice(-this.opts.signingWindow);
    const signed = last.filter(Boolean).length;
    return {
      name: "signing",
      ok: signed > 0,
      detail: `signed ${signed} of the last ${this.opts.signingWindow} commits`,
    };
  }

  /** Looks at the canonical commits (heights below the latest) not seen yet. */
  private async scanCommits(latest: bigint): Promise<void> {
    const last = latest - 1n;
    if (last < 1n) return;
    const floor = last - BigInt(this.opts.maxCommitsPerCheck) + 1n;
    let h = this.nextCommit === null || this.nextCommit < floor ? (floor < 1n ? 1n : floor) : this.nextCommit;
    for (; h <= last; h++) {
      const c = await this.m.chain.commit(h);
      if (!c.canonical) break;
      const signed = signedBy(c, this.opts.validatorAddress);
      if (signed && (this.lastSigned === null || h > this.lastSigned)) this.lastSigned = h;
      this.recent.push(signed);
      if (this.recent.length > 4 * this.opts.signingWindow)
        this.recent.splice(0, this.recent.length - this.opts.signingWindow);
      this.nextCommit = h + 1n;
    }
  }
}

function advance(p: Progress | null, height: bigint, now: number): Progress {
  return p === null || height !== p.height ? { height, changedAt: now } : p;
}
