import { access } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { collectDefaultMetrics, Registry } from "prom-client";
import {
  CommandNodeControl,
  createFailoverMetrics,
  FailoverDaemon,
  HttpChainRpc,
  HttpEvmRpc,
  monotonic,
  PeerClient,
  PeerToken,
} from "../../failover/index.js";
import { buildHttpApp, failoverRoutes, failoverStatusOf, httpStatusOf } from "../../http/index.js";
import { systemClock } from "../../util/clock.js";
import { createLogger, type LogLevel } from "../../util/logger.js";
import { ConfigError, ConfigErrorCode, readYamlFile } from "../config.js";
import { parseFailoverConfig } from "../failover/config.js";
import { loggingFailoverEvents } from "../failover/events.js";
import { openLeaseStore } from "../failover/leaseStore.js";
import { parseLogLevel } from "../options.js";
import { runUntilSignal } from "../run.js";
import { addEventsOptions, busFailoverEvents, type EventsFlags, setUpEvents } from "../signer/eventsSetup.js";

interface FailoverFlags extends EventsFlags {
  config: string;
  role?: "active" | "passive";
  requestHandover?: boolean;
  logLevel?: LogLevel;
}

function parseRole(v: string): "active" | "passive" {
  if (v !== "active" && v !== "passive") throw new InvalidArgumentError("must be active or passive");
  return v;
}

export function registerFailoverCommand(program: Command): void {
  const cmd = program.command("failover");
  addEventsOptions(cmd, "every failover event");
  cmd
    .description(
      "active/passive node failover for chains without remote signing: fenced lease, chain check before promotion, state that never goes back",
    )
    .requiredOption("--config <file>", "YAML config (SyncGuard's config-story.yaml fields are accepted)")
    .option("--role <role>", "active or passive at start (wins over server.role)", parseRole)
    .option("--request-handover", "ask the active to hand the validator to this node (manual failback), then exit")
    .option("--log-level <level>", "debug, info, warn, error (default info)", parseLogLevel)
    .action(async (flags: FailoverFlags) => {
      await runUntilSignal(
        () => startFailover(flags),
        (running) => running.stop(),
      );
    });
}

export interface RunningFailover {
  url: string;
  stop(): Promise<void>;
}

export async function startFailover(flags: FailoverFlags): Promise<RunningFailover | null> {
  const doc = readYamlFile(flags.config);
  const cfg = parseFailoverConfig(doc, flags.config, flags.role === undefined ? {} : { role: flags.role });
  const { logger, pino } = createLogger({ level: flags.logLevel ?? (cfg.logLevel as LogLevel | undefined) ?? "info" });
  const o = cfg.options;
  for (const [path, file] of [
    ["key.validator_key_file", o.files.validatorKeyFile],
    ["node.config_file", o.files.nodeConfigFile],
  ] as const) {
    if (
      file !== null &&
      !(await access(file).then(
        () => true,
        () => false,
      ))
    ) {
      throw new ConfigError(
        { code: ConfigErrorCode.Invalid, file: flags.config, path },
        `${path}: ${file} does not exist`,
      );
    }
  }
  const peerToken = readPeerToken(cfg.peerTokenFile, flags.config);
  if (peerToken === null && cfg.peers.some((p) => p.loopback !== true)) {
    logger.warn(
      "No communication.peer_token_file: answers of peers on other hosts are never taken as proof that their node stopped",
      { peers: cfg.peers.filter((p) => p.loopback !== true).map((p) => p.id) },
    );
  }
  const opened = await openLeaseStore(cfg.lease.store, {
    name: cfg.lease.name,
    reserveMs: o.lease.reserveMs,
    callTimeoutMs: cfg.lease.callTimeoutMs,
    file: flags.config,
  });
  if (flags.requestHandover) {
    try {
      await opened.lease.requestHandover(o.nodeId);
      process.stdout.write(`asked the active to hand over to ${o.nodeId} (it does when the handover window allows)\n`);
    } finally {
      await opened.close();
    }
    return null;
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "slashguard_" });
  const sleep = (ms: number): Promise<void> => systemClock.sleep(ms);
  const bus = setUpEvents(flags, doc, flags.config, { store: null, logger, registry }, "failover.<node>.<event>");
  bus?.publisher.start();
  let daemon: FailoverDaemon;
  try {
    daemon = await FailoverDaemon.start(o, {
      lease: opened.lease,
      node: new CommandNodeControl(cfg.node, { logger, clock: monotonic, sleep }),
      chain: new HttpChainRpc({
        url: cfg.rpc.cometUrl,
        timeoutMs: cfg.rpc.timeoutMs,
        commitSource: cfg.rpc.commitSource,
      }),
      evm: cfg.rpc.evmUrl === null ? null : new HttpEvmRpc({ url: cfg.rpc.evmUrl, timeoutMs: cfg.rpc.timeoutMs }),
      peers: new PeerClient(cfg.peers, cfg.peerTimeoutMs, peerToken),
      events: bus === null ? loggingFailoverEvents(logger) : busFailoverEvents(bus, loggingFailoverEvents(logger)),
      metrics: createFailoverMetrics(registry),
      logger: logger.child({ failover: o.nodeId }),
      clock: monotonic,
      sleep,
    });
  } catch (e) {
    await bus?.publisher.stop();
    await opened.close();
    throw e;
  }
  const app = await buildHttpApp(
    {},
    {
      logger,
      registry,
      health: async () => ({ ok: daemon.healthy, checks: { node: { ok: daemon.healthy } } }),
      statusOf: (code) => failoverStatusOf(code) ?? httpStatusOf(code),
    },
  );
  await app.register(failoverRoutes, { daemon, peerToken });
  const stop = async (): Promise<void> => {
    await daemon.stop();
    // events still queued get a moment on the way out (they live in memory only)
    await bus?.publisher.stop();
    await app.close();
    await opened.close();
    pino.flush();
  };
  try {
    const address = await app.listen({ host: cfg.http.host, port: cfg.http.port });
    logger.info("Failover listening", { address, node: o.nodeId, lease: opened.lease.kind });
    process.stdout.write(`slashguard failover ${o.nodeId} listening on ${address} (status: ${address}/status)\n`);
    return { url: address, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function readPeerToken(file: string | null, config: string): PeerToken | null {
  if (file === null) return null;
  try {
    return PeerToken.fromFile(file);
  } catch (e) {
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file: config, path: "communication.peer_token_file" },
      `communication.peer_token_file: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
