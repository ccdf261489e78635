import type { Command } from "commander";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { HealthReport, SignerService } from "../../signer/common/service.js";
import { buildHttpApp } from "../../signer/http/app.js";
import { httpStatusOf } from "../../signer/http/statusCodes.js";
import { DEFAULT_STORE_URL, openStore } from "../../store/openStore.js";
import { errorMessage } from "../../util/errors.js";
import { createLogger, type LogLevel } from "../../util/logger.js";
import { ConfigError, ConfigErrorCode, pick, readYamlFile } from "../config.js";
import { parseLogLevel, parsePositiveInt } from "../options.js";
import { shutdownSignal } from "../run.js";
import type { SignerContext, SignerSection } from "../signer/section.js";
import { substrateSection } from "../signer/substrateSection.js";

/** Every chain section of the signer, in start order. */
export const SIGNER_SECTIONS: SignerSection[] = [substrateSection];

interface CommonFlags {
  config?: string;
  db?: string;
  host?: string;
  port?: number;
  logLevel?: LogLevel;
}

export function registerSignerCommand(program: Command): void {
  const cmd = program
    .command("signer")
    .description(
      "remote signer: Ethereum (Web3Signer API), CometBFT (privval), Substrate (gRPC); records before it signs",
    )
    .option("--config <file>", "YAML config with the same settings (flags win)")
    .option("--db <url>", `store: sqlite:PATH or postgres://… (default ${DEFAULT_STORE_URL})`)
    .option("--host <host>", "HTTP listen address (API, health, metrics) (default 127.0.0.1)")
    .option("--port <n>", "HTTP port (default 9000)", parsePositiveInt)
    .option("--log-level <level>", "debug, info, warn, error (default info)", parseLogLevel);
  for (const s of SIGNER_SECTIONS) s.addOptions(cmd);
  cmd.action(async (flags: CommonFlags & Record<string, unknown>) => {
    const running = await startSigner(flags, SIGNER_SECTIONS);
    await shutdownSignal();
    await running.stop();
  });
}

export interface RunningSigner {
  url: string;
  stop(): Promise<void>;
}

/** Starts the store, the HTTP server and every enabled section; used by `signer` and `up`. */
export async function startSigner(
  flags: CommonFlags & Record<string, unknown>,
  sections: readonly SignerSection[],
  configOverride?: Record<string, unknown>,
): Promise<RunningSigner> {
  const configFile = flags.config ?? "";
  const config = configOverride ?? readYamlFile(flags.config);
  const http = (config.http ?? {}) as { host?: string; port?: number };
  const { logger, pino } = createLogger({
    level: pick(flags.logLevel, config.log_level as LogLevel | undefined, "info"),
  });
  const store = await openStore(pick(flags.db, config.db as string | undefined, DEFAULT_STORE_URL));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "slashguard_" });
  const services: SignerService[] = [];
  const health = async (): Promise<HealthReport> => {
    const checks: HealthReport["checks"] = {};
    try {
      await store.ping();
      checks.store = { ok: true };
    } catch (e) {
      checks.store = { ok: false, detail: errorMessage(e) };
    }
    for (const s of services) {
      const r = await s.health();
      for (const [k, v] of Object.entries(r.checks)) checks[`${s.name}.${k}`] = v;
    }
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
  const app = await buildHttpApp({}, { logger, registry, health, statusOf: httpStatusOf });
  const stopAll = async (): Promise<void> => {
    for (const s of [...services].reverse())
      await s.stop().catch((e) => logger.error("Stop failed", { service: s.name }, e));
    await app.close();
    await store.close();
    pino.flush();
  };
  try {
    const ctx: SignerContext = { flags, config, configFile, store, logger, registry, http: app };
    for (const section of sections) {
      const s = await section.start(ctx);
      if (s !== null) services.push(s);
    }
    if (services.length === 0) {
      throw new ConfigError(
        { code: ConfigErrorCode.Invalid, file: configFile },
        "nothing to sign with: give --keystores (Ethereum), --cometbft-config (CometBFT) or --substrate-keystore (Substrate)",
      );
    }
    const host = pick(flags.host, http.host, "127.0.0.1");
    const port = pick(flags.port, http.port, 9000);
    const address = await app.listen({ host, port });
    logger.info("Signer listening", { address, services: services.map((s) => s.name) });
    for (const s of services) for (const line of s.describe()) process.stdout.write(`${s.name}: ${line}\n`);
    process.stdout.write(
      `slashguard signer listening on ${address} (health: ${address}/healthcheck, metrics: ${address}/metrics)\n`,
    );
    return { url: address, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
