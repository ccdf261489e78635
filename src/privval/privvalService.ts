import type { PubKeyLayout } from "../chains/cometbft/index.js";
import type { CometSigningKey } from "../protection/index.js";
import type { HealthReport, SignerService } from "../signer/index.js";
import { type Clock, systemClock } from "../util/clock.js";
import { ed25519Random } from "../util/curve25519.js";
import type { Logger } from "../util/logger.js";
import type { PrivvalMetrics } from "./metrics.js";
import type { NodeAddress } from "./nodeAddress.js";
import { DEFAULT_SESSION_TIMING, NodeSession, type NodeSessionOptions } from "./nodeSession.js";
import { type CometSigner, RequestHandler } from "./requestHandler.js";

export interface PrivvalChain {
  chainId: string;
  key: CometSigningKey & { address: string };
  nodes: NodeAddress[];
  pubKeyLayout: PubKeyLayout;
}

export interface PrivvalServiceOptions {
  chains: PrivvalChain[];
  timing?: Partial<Omit<NodeSessionOptions, "chainId" | "address">>;
}

export interface PrivvalServiceModules {
  /** The protection path: decides, signs and records before it returns. */
  signer: CometSigner;
  logger: Logger;
  clock?: Clock;
  metrics?: PrivvalMetrics | null;
}

/** The CometBFT remote signer: one session per configured node, every chain's requests through `signer`. */
export class PrivvalService implements SignerService {
  readonly name = "cometbft";
  private readonly sessions: { chainId: string; session: NodeSession }[] = [];

  constructor(
    private readonly opts: PrivvalServiceOptions,
    modules: PrivvalServiceModules,
  ) {
    // The node does not check the signer's SecretConnection identity, so a fresh one per process is enough.
    const identity = ed25519Random();
    for (const chain of opts.chains) {
      const handler = new RequestHandler(
        { chainId: chain.chainId, pubKeyLayout: chain.pubKeyLayout },
        { key: chain.key, signer: modules.signer },
      );
      for (const address of chain.nodes) {
        const session = new NodeSession(
          { ...DEFAULT_SESSION_TIMING, ...opts.timing, chainId: chain.chainId, address },
          {
            handler,
            identity,
            logger: modules.logger.child({ chainId: chain.chainId, node: address.text }),
            clock: modules.clock ?? systemClock,
            metrics: modules.metrics ?? null,
          },
        );
        this.sessions.push({ chainId: chain.chainId, session });
      }
    }
  }

  start(): void {
    for (const s of this.sessions) s.session.start();
  }

  describe(): string[] {
    return this.opts.chains.map(
      (c) => `chain ${c.chainId}: validator ${c.key.address}, dialing ${c.nodes.map((n) => n.text).join(", ")}`,
    );
  }

  /** Per chain: up while at least one of its nodes is connected (sentries are redundant by design). */
  async health(): Promise<HealthReport> {
    const checks: HealthReport["checks"] = {};
    for (const c of this.opts.chains) {
      const mine = this.sessions.filter((s) => s.chainId === c.chainId);
      const up = mine.filter((s) => s.session.connected).length;
      checks[c.chainId] = { ok: up > 0, detail: `${up}/${mine.length} nodes connected` };
    }
    return { ok: Object.values(checks).every((x) => x.ok), checks };
  }

  async stop(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.session.stop()));
  }
}
