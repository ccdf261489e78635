import type { Command } from "commander";
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { DecisionEventSink } from "../../protection/index.js";
import type { SignerService } from "../../signer/index.js";
import type { Store } from "../../store/index.js";
import type { Logger } from "../../util/logger.js";

/**
 * One chain's part of `slashguard signer`. Each section adds its flags, reads its own key of the YAML
 * config (`ethereum:`, `cometbft:`, `substrate:`; flags win) and starts when enabled. All sections of
 * one process share the store, the logger and the metrics registry (served on the HTTP port).
 */
export interface SignerSection {
  readonly name: string;
  addOptions(cmd: Command): void;
  /** Returns null when neither flags nor config enable this section. */
  start(ctx: SignerContext): Promise<SignerService | null>;
}

export interface SignerContext {
  /** Parsed command-line flags; only flags the operator gave are set (no defaults), so config can fill in. */
  flags: Record<string, unknown>;
  /** The YAML document (an empty object without --config). */
  config: Record<string, unknown>;
  configFile: string;
  store: Store;
  logger: Logger;
  registry: Registry;
  /** The HTTP app before it listens: a section may add routes (the Ethereum API does). */
  http: FastifyInstance;
  /** Where signing decisions go besides the store (--events); each chain's protection writes to it. */
  events: DecisionEventSink | null;
}
