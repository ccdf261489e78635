import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { collectDefaultMetrics, Registry } from "prom-client";
import { buildHttpApp, enforceClientAllowList, httpStatusOf, readAllowList } from "../../http/index.js";
import type { HealthReport, SignerService } from "../../signer/index.js";
import {
  DB_DURABILITY_LEVELS,
  type DbDurability,
  DEFAULT_DB_DURABILITY,
  DEFAULT_STORE_URL,
} from "../../store/index.js";
import { errorMessage } from "../../util/errors.js";
import { createLogger, type LogLevel } from "../../util/logger.js";
import { ConfigError, ConfigErrorCode, pick, readYamlFile } from "../config.js";
import {
  addHttpHardeningOptions,
  boundAddress,
  type HttpHardeningFlags,
  readHttpConfig,
  resolveHttpServer,
} from "../httpServer.js";
import { parseDbDurability, parseLogLevel, parsePort } from "../options.js";
import { runUntilSignal } from "../run.js";
import { warnReadableSecrets } from "../secretFiles.js";
import { monitorAlertSink, signerSource, storeAlerts } from "../signer/alertRelay.js";
import { cometbftSection } from "../signer/cometbftSection.js";
import { ethereumSection } from "../signer/ethereumSection.js";
import { addEventsOptions, type EventsFlags, type SignerEvents, setUpEvents } from "../signer/eventsSetup.js";
import type { SignerContext, SignerSection } from "../signer/section.js";
import { openSignerStore } from "../signer/signerStore.js";
import { substrateSection } from "../signer/substrateSection.js";
import { thresholdSection } from "../signer/thresholdSection.js";

/** How long the HTTP server waits for open connections at stop before it closes them. */
const STOP_GRACE_MS = 3000;

/** Every chain section of the signer, in start order. */
export const SIGNER_SECTIONS: SignerSection[] = [
  ethereumSection(),
  thresholdSection(),
  cometbftSection,
  substrateSection,
];

interface CommonFlags extends HttpHardeningFlags, EventsFlags {
  config?: string;
  db?: string;
  dbDurability?: DbDurability;
  host?: string;
  port?: number;
  logLevel?: LogLevel;
  tlsCert?: string;
  tlsKey?: string;
  tlsAllowedClients?: string;
}

export function registerSignerCommand(program: Command): void {
  const cmd = program
    .command("signer")
    .description(
      "remote signer: Ethereum (Web3Signer API), CometBFT (privval), Substrate (gRPC); records before it signs",
    )
    .option("--config <file>", "YAML config with the same settings (flags win)")
    .option(
      "--db <url>",
      `store: sqlite:PATH or postgres://… (default ${DEFAULT_STORE_URL}); several hosts follow the primary: postgres://h1:5432,h2:5432/db?target_session_attrs=read-write`,
    )
    .option(
      "--db-durability <level>",
      "PostgreSQL: local (a commit is on the primary's disk) or replicated (also on a synchronous standby; refuses to sign without one) (default local)",
      parseDbDurability,
    )
    .option("--host <host>", "HTTP listen address (API, health, metrics) (default 127.0.0.1)")
    .option("--port <n>", "HTTP port (default 9000)", parsePort)
    .option("--log-level <level>", "debug, info, warn, error (default info)", parseLogLevel)
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM)")
    .option("--tls-key <file>", "private key of --tls-cert (PEM)")
    .option("--tls-allowed-clients <file>", "admit only clients whose certificate SHA-256 fingerprint is listed here");
  addHttpHardeningOptions(cmd);
  addEventsOptions(cmd);
  for (const s of SIGNER_SECTIONS) s.addOptions(cmd);
  cmd.action(async (flags: CommonFlags & Record<string, unknown>) => {
    await runUntilSignal(
      () => startSigner(flags, SIGNER_SECTIONS),
      (running) => running.stop(),
    );
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
  const http = readHttpConfig(config, configFile);
  const { logger, pino } = createLogger({
    level: pick(flags.logLevel, config.log_level as LogLevel | undefined, "info"),
  });
  const tlsCert = pick(flags.tlsCert, http.tls?.cert, undefined);
  const tlsKey = pick(flags.tlsKey, http.tls?.key, undefined);
  const allowedClients = pick(flags.tlsAllowedClients, http.tls?.allowed_clients, undefined);
  if ((tlsCert === undefined) !== (tlsKey === undefined) || (allowedClients !== undefined && tlsCert === undefined)) {
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file: configFile },
      "TLS needs both --tls-cert and --tls-key (and a client allow-list needs TLS)",
    );
  }
  const tls = tlsCert !== undefined && tlsKey !== undefined;
  // before anything is opened: an insecure bind is refused at once
  const server = resolveHttpServer(flags, http, tls, configFile, logger);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "slashguard_" });
  const fileDurability = config.db_durability;
  if (fileDurability !== undefined && !DB_DURABILITY_LEVELS.includes(fileDurability as DbDurability))
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file: configFile },
      `db_durability must be one of ${DB_DURABILITY_LEVELS.join(", ")}`,
    );
  const durability = pick(flags.dbDurability, fileDurability as DbDurability | undefined, DEFAULT_DB_DURABILITY);
  // the database's alerts go to --monitor-url (a refused start still sends its alert: a few seconds)
  const monitor = monitorAlertSink(flags, config, configFile, logger);
  const storeUrl = pick(flags.db, config.db as string | undefined, DEFAULT_STORE_URL);
  const { store, stop: stopStoreChecks } = await openSignerStore(
    storeUrl,
    durability,
    logger,
    registry,
    monitor === null ? null : storeAlerts(monitor, signerSource(), logger),
  ).catch(async (e) => {
    await monitor?.settle(5000);
    await monitor?.close();
    throw e;
  });
  const services: SignerService[] = [];
  let events: SignerEvents | null = null;
  const health = async (): Promise<HealthReport> => {
    const checks: HealthReport["checks"] = {};
    try {
      await store.ping();
      checks.store = { ok: true };
    } catch (e) {
      checks.store = { ok: false, detail: errorMessage(e) };
    }
    if (events !== null) {
      // informational: the bus never gates signing, so it never turns the health check red
      const e = events.publisher.status();
      checks.events = {
        ok: true,
        detail: `${e.connected ? "connected" : "NOT connected"}, ${e.backlog} waiting${e.lastError === null ? "" : ` (last error: ${e.lastError})`}`,
      };
    }
    for (const s of services) {
      const r = await s.health();
      for (const [k, v] of Object.entries(r.checks)) checks[`${s.name}.${k}`] = v;
    }
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
  const app = await buildHttpApp(
    tlsCert === undefined || tlsKey === undefined
      ? { hostAllowlist: server.hostAllowlist, limits: server.limits }
      : {
          hostAllowlist: server.hostAllowlist,
          limits: server.limits,
          https: {
            cert: readFileSync(tlsCert),
            key: readFileSync(tlsKey),
            // client certificates are checked against the allow-list by fingerprint, so self-signed ones work
            requestCert: allowedClients !== undefined,
            rejectUnauthorized: false,
          },
        },
    { logger, registry, health, statusOf: httpStatusOf },
  );
  if (allowedClients !== undefined) enforceClientAllowList(app, readAllowList(allowedClients));
  const stopAll = async (): Promise<void> => {
    for (const s of [...services].reverse())
      await s.stop().catch((e) => logger.error("Stop failed", { service: s.name }, e));
    // after the sections: their last decisions are in the outbox (published now or at the next start)
    await events?.publisher.stop().catch((e) => logger.error("Stop failed", { service: "events" }, e));
    // The signing services are stopped: nothing is left to answer. A client holding a connection open
    // (an SSE feed, a keep-alive request mid-flight) must not hold the stop for a minute.
    const forced = setTimeout(() => app.server.closeAllConnections(), STOP_GRACE_MS);
    await app.close();
    clearTimeout(forced);
    stopStoreChecks();
    await monitor?.close();
    await store.close();
    pino.flush();
  };
  try {
    events = setUpEvents(flags, config, configFile, { store, storeUrl, logger, registry });
    const ctx: SignerContext = {
      flags,
      config,
      configFile,
      store,
      logger,
      registry,
      http: app,
      events: events?.sink ?? null,
    };
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
    events?.publisher.start();
    warnReadableSecrets(secretPaths(flags, config, tlsKey), logger);
    const listening = await app.listen({ host: server.host, port: server.port });
    // the address really bound (a wildcard bind is shown as such, not as one loopback address)
    const address = boundAddress(app.server.address(), tls);
    logger.info("Signer listening", {
      address,
      services: services.map((s) => s.name),
      hostAllowlist: server.hostAllowlist,
      maxConnections: server.limits.maxConnections,
    });
    for (const s of services) for (const line of s.describe()) process.stdout.write(`${s.name}: ${line}\n`);
    if (events !== null) process.stdout.write(`events: ${events.describe()}\n`);
    process.stdout.write(
      `slashguard signer listening on ${address} (health: ${address}/healthcheck, metrics: ${address}/metrics)\n`,
    );
    return { url: listening, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The secrets the signer's flags and config name (what `warnReadableSecrets` checks at start). */
function secretPaths(
  flags: Record<string, unknown>,
  config: Record<string, unknown>,
  tlsKey: string | undefined,
): Parameters<typeof warnReadableSecrets>[0] {
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const eth = (config.ethereum ?? {}) as Record<string, any>;
  const sub = (config.substrate ?? {}) as Record<string, any>;
  const keystores = str(flags.keystores) ?? str(eth.keystores);
  return {
    files: [
      tlsKey,
      keystores === undefined ? undefined : (str(flags.keymanagerTokenFile) ?? str(eth.keymanager?.token_file)),
      str(flags.monitorTokenFile) ?? str(eth.monitor_token_file),
      str(flags.grpcTlsKey) ?? str(sub.grpc?.tls_key),
      str(flags.clusterTlsKey),
    ],
    passwordDirs: [keystores, str(flags.passwords) ?? str(eth.passwords)],
  };
}
