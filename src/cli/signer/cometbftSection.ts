import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { compareHrs, formatHrs, parseStateFile, type StateFileFormat } from "../../chains/cometbft/index.js";
import {
  cometAddressOf,
  createHsmMetrics,
  loadCometBftKeyFile,
  openPkcs11Keys,
  type Pkcs11Key,
  type Pkcs11KeySet,
} from "../../keys/index.js";
import { createPrivvalMetrics, PrivvalService } from "../../privval/index.js";
import { CometBftProtection, createProtectionMetrics } from "../../protection/index.js";
import type { SignerService } from "../../signer/index.js";
import { AppError, errorMessage } from "../../util/errors.js";
import { ConfigError, ConfigErrorCode } from "../config.js";
import { type CometConfig, loadCometConfig, sameStoreUrl } from "./cometbftConfig.js";
import type { SignerContext, SignerSection } from "./section.js";

export enum CometStartErrorCode {
  StoreMismatch = "ERR_CONFIG_STORE_MISMATCH",
  BelowStateFile = "ERR_COMETBFT_BELOW_STATE_FILE",
}

export class CometStartError extends AppError<{ code: CometStartErrorCode; file: string }> {}

/**
 * `--cometbft-config FILE` (or `cometbft: {config: FILE}` in the signer's YAML): the CometBFT privval
 * signer. It shares the signer's store; a store URL in its own file must name the same database.
 */
export const cometbftSection: SignerSection = {
  name: "cometbft",

  addOptions(cmd: Command): void {
    cmd.option("--cometbft-config <file>", "CometBFT remote signer config (YAML, see docs/cometbft.md)");
  },

  async start(ctx: SignerContext): Promise<SignerService | null> {
    const fromYaml = (ctx.config.cometbft as { config?: unknown } | undefined)?.config;
    const file =
      (ctx.flags.cometbftConfig as string | undefined) ?? (typeof fromYaml === "string" ? fromYaml : undefined);
    if (file === undefined) return null;
    const config = loadCometConfig(file);
    if (config.db !== null && !sameStoreUrl(config.db, ctx.store.url)) {
      throw new CometStartError(
        { code: CometStartErrorCode.StoreMismatch, file },
        `config ${file}: db names another store than the signer's (${ctx.store.url}); CometBFT state must live in the signer's store`,
      );
    }
    return startCometBft(config, ctx);
  },
};

async function startCometBft(config: CometConfig, ctx: SignerContext): Promise<SignerService> {
  const logger = ctx.logger.child({ service: "cometbft" });
  const protection = new CometBftProtection(
    {},
    { store: ctx.store, logger, metrics: createProtectionMetrics(ctx.registry), events: ctx.events },
  );
  const chains = [];
  let hsm: Pkcs11KeySet | null = null;
  try {
    const refs = config.chains.flatMap((ch) => (ch.pkcs11 === null ? [] : [ch.pkcs11]));
    if (refs.length > 0) hsm = await openPkcs11Keys(refs, {}, { logger, metrics: createHsmMetrics(ctx.registry) });
    let nextHsmKey = 0;
    for (const ch of config.chains) {
      const key = ch.keyFile !== null ? loadCometBftKeyFile(ch.keyFile) : hsmKey(hsm!.keys[nextHsmKey++]!);
      await protection.registerKey(ch.chainId, key);
      if (ch.stateFile !== null)
        await importStartingState(protection, ch.chainId, key.publicKey, ch.stateFile, ch.stateFormat, logger);
      chains.push({ chainId: ch.chainId, key, nodes: ch.nodes, pubKeyLayout: ch.pubKeyLayout });
    }
  } catch (e) {
    await protection.close();
    await hsm?.close();
    throw e;
  }
  const service = new PrivvalService(
    { chains, timing: config.timing },
    { signer: protection, logger, metrics: createPrivvalMetrics(ctx.registry) },
  );
  service.start();
  return {
    name: service.name,
    describe: () => service.describe(),
    // a token that is down turns the health check red (its key refuses to sign meanwhile)
    health: async () => {
      const r = await service.health();
      const checks = { ...r.checks, ...hsm?.health() };
      return { ok: Object.values(checks).every((c) => c.ok), checks };
    },
    stop: async () => {
      await service.stop();
      await protection.close();
      await hsm?.close();
    },
  };
}

/** A token's key as the privval service names it (the validator address of its public key). */
function hsmKey(k: Pkcs11Key): Pkcs11Key & { address: string } {
  return {
    publicKey: k.publicKey,
    description: k.description,
    sign: (m) => k.sign(m),
    address: cometAddressOf(k.publicKey),
  };
}

/**
 * Imports the configured priv_validator_state.json (never lowering the store), then checks that the
 * store is at or above it: the signer never starts below a state the operator handed it.
 */
async function importStartingState(
  protection: CometBftProtection,
  chainId: string,
  pubkey: Uint8Array,
  stateFile: string,
  format: StateFileFormat | null,
  logger: SignerContext["logger"],
): Promise<void> {
  let text: string;
  try {
    text = readFileSync(stateFile, "utf8");
  } catch (e) {
    throw new ConfigError(
      { code: ConfigErrorCode.Unreadable, file: stateFile },
      `cannot read state file ${stateFile}: ${errorMessage(e)}`,
    );
  }
  const parsed = parseStateFile(text, format ?? undefined);
  const r = await protection.importState(chainId, pubkey, parsed.state);
  if (compareHrs(r.stored.hrs, parsed.state.hrs) < 0) {
    throw new CometStartError(
      { code: CometStartErrorCode.BelowStateFile, file: stateFile },
      `store state ${formatHrs(r.stored.hrs)} is below ${stateFile} (${formatHrs(parsed.state.hrs)})`,
    );
  }
  logger.info("Starting state checked", {
    chainId,
    stateFile,
    format: parsed.format,
    file: formatHrs(parsed.state.hrs),
    store: formatHrs(r.stored.hrs),
    imported: r.applied,
  });
}
