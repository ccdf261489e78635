import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { Collector } from "../../agent/index.js";
import { Agent, CometCollector, EthCollector, HarmonyCollector, SubstrateCollector } from "../../agent/index.js";
import { systemClock } from "../../util/clock.js";
import { createLogger, type LogLevel } from "../../util/logger.js";
import { parseDuration, parseLogLevel, parsePositiveInt } from "../options.js";
import { shutdownSignal } from "../run.js";

interface AgentFlags {
  monitor?: string;
  tokenFile?: string;
  hostName: string;
  interval: number;
  timeout: number;
  queueSize: number;
  harmonyRpc: string[];
  harmonyKeysDir: string[];
  harmonyValidatorAddress?: string;
  cometbftRpc: string[];
  cometbftHome: string[];
  ethKeymanager: string[];
  ethKeymanagerTokenFile: string[];
  substrateRpc: string[];
  substrateKeystore: string[];
  substrateSessionKeys?: string;
  once?: boolean;
  logLevel: LogLevel;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The package version, reported by agents. */
export function version(): string {
  return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string })
    .version;
}

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("host agent: reports which keys the local nodes sign with, and in which mode, to the monitor")
    .option("--monitor <url>", "monitor URL, e.g. http://monitor:9100")
    .option("--token-file <file>", "file holding the agent's bearer token (from `monitor token create`)")
    .option("--host-name <name>", "name of this host in the monitor", hostname())
    .option("--interval <duration>", "report interval", parseDuration, 15_000)
    .option("--timeout <duration>", "time limit of each node and monitor request", parseDuration, 5000)
    .option("--queue-size <n>", "reports kept while the monitor is down", parsePositiveInt, 1000)
    .option("--harmony-rpc <url>", "Harmony node RPC (hmyv2_getNodeMetadata), repeatable", collect, [])
    .option("--harmony-keys-dir <dir>", "Harmony BLS key directory (file names only), repeatable", collect, [])
    .option("--harmony-validator-address <one1…>", "validator address the Harmony keys belong to")
    .option("--cometbft-rpc <url>", "CometBFT node RPC (/status), repeatable", collect, [])
    .option(
      "--cometbft-home <dir>",
      "CometBFT home (config.toml, public half of priv_validator_key.json), repeatable",
      collect,
      [],
    )
    .option("--eth-keymanager <url>", "validator client keymanager API, repeatable", collect, [])
    .option("--eth-keymanager-token-file <file>", "keymanager API token file (one per --eth-keymanager)", collect, [])
    .option("--substrate-rpc <url>", "Substrate node RPC (system_nodeRoles, author_hasKey), repeatable", collect, [])
    .option(
      "--substrate-keystore <dir>",
      "Substrate keystore directory (file names only; one per --substrate-rpc)",
      collect,
      [],
    )
    .option(
      "--substrate-session-keys <hex>",
      "session keys (author_rotateKeys output) to confirm with author_hasSessionKeys",
    )
    .option("--once", "collect once, print the report as JSON and exit (sends nothing)")
    .option("--log-level <level>", "debug, info, warn, error", parseLogLevel, "info" as LogLevel)
    .action(async (f: AgentFlags) => {
      const collectors = buildCollectors(f);
      if (collectors.length === 0)
        throw new InvalidArgumentError(
          "no node to watch: give --harmony-rpc, --cometbft-rpc, --eth-keymanager or --substrate-rpc",
        );
      const { logger, pino } = createLogger({ level: f.logLevel });
      const base = { hostName: f.hostName, intervalMs: f.interval, agentVersion: version() };
      if (f.once) {
        const agent = new Agent(
          { ...base, reporter: reporterOptions(f, "") },
          { collectors, logger, clock: systemClock },
        );
        process.stdout.write(`${JSON.stringify(await agent.collect(), null, 2)}\n`);
        return;
      }
      if (f.monitor === undefined || f.tokenFile === undefined)
        throw new InvalidArgumentError("--monitor and --token-file are required");
      const token = readFileSync(f.tokenFile, "utf8").trim();
      const agent = new Agent(
        { ...base, reporter: reporterOptions(f, token) },
        { collectors, logger, clock: systemClock },
      );
      agent.start();
      logger.info("Agent started", {
        host: f.hostName,
        monitor: f.monitor,
        sources: collectors.map((c) => c.id),
        interval_ms: f.interval,
      });
      await shutdownSignal();
      await agent.stop();
      pino.flush();
    });
}

function reporterOptions(f: AgentFlags, token: string) {
  return {
    monitorUrl: f.monitor ?? "",
    token,
    maxQueue: f.queueSize,
    timeoutMs: f.timeout,
    initialBackoffMs: Math.min(1000, f.interval),
    maxBackoffMs: Math.max(60_000, f.interval),
  };
}

function buildCollectors(f: AgentFlags): Collector[] {
  const t = f.timeout;
  const out: Collector[] = [];
  const harmonyDirs = [...f.harmonyKeysDir];
  for (const rpcUrl of f.harmonyRpc) {
    const keysDir = harmonyDirs.shift();
    out.push(
      new HarmonyCollector({ rpcUrl, timeoutMs: t, ...opt({ keysDir, validatorAddress: f.harmonyValidatorAddress }) }),
    );
  }
  for (const keysDir of harmonyDirs)
    out.push(new HarmonyCollector({ keysDir, timeoutMs: t, ...opt({ validatorAddress: f.harmonyValidatorAddress }) }));
  const homes = [...f.cometbftHome];
  for (const rpcUrl of f.cometbftRpc)
    out.push(new CometCollector({ rpcUrl, timeoutMs: t, ...opt({ home: homes.shift() }) }));
  for (const home of homes) out.push(new CometCollector({ home, timeoutMs: t }));
  if (f.ethKeymanager.length !== f.ethKeymanagerTokenFile.length)
    throw new InvalidArgumentError("give one --eth-keymanager-token-file per --eth-keymanager");
  f.ethKeymanager.forEach((url, i) => {
    out.push(new EthCollector({ url, tokenFile: f.ethKeymanagerTokenFile[i]!, timeoutMs: t }));
  });
  f.substrateRpc.forEach((rpcUrl, i) => {
    const extra = opt({ keystore: f.substrateKeystore[i], sessionKeys: f.substrateSessionKeys });
    out.push(new SubstrateCollector({ rpcUrl, timeoutMs: t, ...extra }));
  });
  return out;
}

/** Drops undefined values (exactOptionalPropertyTypes). */
function opt<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
