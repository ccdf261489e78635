import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { Agent, EthCollector } from "../../agent/index.js";
import { generateKeystores } from "../../keys/index.js";
import { ownersRepository } from "../../store/index.js";
import { systemClock } from "../../util/clock.js";
import { writeFileDurable } from "../../util/durableFile.js";
import { createLogger } from "../../util/logger.js";
import { addHttpHardeningOptions, type HttpHardeningFlags } from "../httpServer.js";
import { parsePort } from "../options.js";
import { runUntilSignal } from "../run.js";
import { inProcessSink, LateAlertSink } from "../signer/alertRelay.js";
import { ethereumSection } from "../signer/ethereumSection.js";
import { monitorSection } from "../signer/monitorSection.js";
import { version } from "./agent.js";
import { startSigner } from "./signer.js";

/** Demo keys use a light KDF so the first start takes a second, not a minute; they are demo keys only. */
const DEMO_KEYS = 4;
const DEMO_SCRYPT_N = 1 << 14;
/** The built-in agent reports as often as a default agent does. */
const LOCAL_AGENT_INTERVAL_MS = 15_000;

interface UpFlags extends HttpHardeningFlags {
  dataDir: string;
  port: number;
  host: string;
  agent: boolean;
  beaconNode?: string[];
}

export function registerUpCommand(program: Command): void {
  const cmd = program
    .command("up")
    .description(
      "everything on one machine: signer + monitor + store on SQLite in ./data, with demo keys on first start",
    )
    .option("--data-dir <dir>", "where the database, keys and tokens live", "./data")
    .option("--port <n>", "HTTP port", parsePort, 9000)
    .option("--host <host>", "HTTP listen address", "127.0.0.1")
    .option("--no-agent", "do not run the built-in host agent that reports this signer's keys to the monitor")
    .option(
      "--beacon-node <url>",
      "beacon node (mainnet): turns on the doppelganger guard and the foreign-signer check (repeat for failover)",
      (v: string, prev: string[] = []) => [...prev, v],
    );
  addHttpHardeningOptions(cmd);
  cmd.action((o: UpFlags) =>
    runUntilSignal(
      () => startUp(o),
      async ({ running, agent }) => {
        await agent?.stop();
        await running.stop();
      },
    ),
  );
}

/** Everything `up` runs: demo keys on the first start, the signer with its monitor, a local agent. */
async function startUp(o: UpFlags) {
  // keys, tokens and the signing history live here: private to this user when it is created
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const keysDir = join(o.dataDir, "keys");
  if (!existsSync(keysDir) || readdirSync(keysDir).filter((f) => f.endsWith(".json")).length === 0) {
    process.stdout.write(
      `first start: writing ${DEMO_KEYS} demo keys to ${keysDir} (demo keys, never for real stake)\n`,
    );
    await generateKeystores(keysDir, DEMO_KEYS, { kdf: "scrypt", work: DEMO_SCRYPT_N });
  }
  const tokenFile = join(o.dataDir, "keymanager-token");
  const ownerTokenFile = join(o.dataDir, "owner-token");
  const agentTokenFile = join(o.dataDir, "agent-token");
  const beacon = o.beaconNode ?? [];
  if (beacon.length === 0) {
    process.stdout.write(
      "doppelganger protection is OFF: `slashguard up` has no beacon node to ask whether a key is already signing elsewhere.\n" +
        "  Give --beacon-node URL to turn on the guard at start and the continuous foreign-signer check.\n",
    );
  }
  // the monitor starts after the signer: the signer's doppelganger alerts wait for it
  const alerts = new LateAlertSink();
  const running = await startSigner(
    {
      ...httpFlags(o),
      db: `sqlite:${join(o.dataDir, "slashguard.db")}`,
      host: o.host,
      port: o.port,
      keystores: keysDir,
      network: "mainnet",
      keymanagerTokenFile: tokenFile,
      ...(beacon.length === 0 ? { doppelganger: false } : { beaconNode: beacon }),
    },
    [
      ethereumSection({ alerts }),
      monitorSection(
        { preset: "mainnet", ethereumOwner: "demo", ...(beacon.length === 0 ? {} : { beaconNode: beacon }) },
        async (m) => {
          // first start: one owner ("demo") with a dashboard/API token and an agent token, kept in files
          if (!existsSync(ownerTokenFile))
            writeFileDurable(ownerTokenFile, `${(await m.tokens.create("demo", "operator", "up")).token}\n`);
          if (!existsSync(agentTokenFile))
            writeFileDurable(agentTokenFile, `${(await m.tokens.create("demo", "agent", "up")).token}\n`);
          const demo = await m.store.tx((tx) => ownersRepository.findOwner(tx, "demo"));
          await alerts.attach(inProcessSink(m.alerts, demo));
        },
      ),
    ],
  );
  // The dashboard has a fleet to show from the first minute: this machine, reporting the signer's keys.
  const agent = o.agent ? startLocalAgent(running.url, { keymanager: tokenFile, agent: agentTokenFile }) : null;
  printTryThis(running.url, { keymanager: tokenFile, owner: ownerTokenFile, agent: agentTokenFile }, agent !== null);
  return { running, agent };
}

function httpFlags(o: UpFlags): HttpHardeningFlags {
  const { httpHostAllowlist, httpRequestTimeout, httpConnectionTimeout, httpKeepAliveTimeout } = o;
  const { httpMaxRequestsPerSocket, httpMaxConnections, allowInsecureHttp } = o;
  const all = {
    httpHostAllowlist,
    httpRequestTimeout,
    httpConnectionTimeout,
    httpKeepAliveTimeout,
    httpMaxRequestsPerSocket,
    httpMaxConnections,
    allowInsecureHttp,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

/** A host agent in this process that reads the signer's keys through its own keymanager API. */
function startLocalAgent(url: string, files: { keymanager: string; agent: string }): Agent {
  const { logger } = createLogger({ level: "warn" });
  const agent = new Agent(
    {
      hostName: hostname(),
      intervalMs: LOCAL_AGENT_INTERVAL_MS,
      agentVersion: version(),
      reporter: {
        monitorUrl: url,
        token: readFileSync(files.agent, "utf8").trim(),
        maxQueue: 100,
        timeoutMs: 5000,
        initialBackoffMs: 1000,
        maxBackoffMs: 60_000,
      },
    },
    {
      collectors: [new EthCollector({ url, tokenFile: files.keymanager, timeoutMs: 5000 })],
      logger: logger.child({ service: "agent" }),
      clock: systemClock,
    },
  );
  agent.start();
  return agent;
}

function printTryThis(
  url: string,
  files: { keymanager: string; owner: string; agent: string },
  localAgent: boolean,
): void {
  const body = (root: string): string =>
    JSON.stringify({
      type: "ATTESTATION",
      fork_info: {
        fork: { previous_version: "0x05000000", current_version: "0x06000000", epoch: "411392" },
        genesis_validators_root: "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95",
      },
      attestation: {
        slot: "13600000",
        index: "0",
        beacon_block_root: `0x${root.repeat(32)}`,
        source: { epoch: "424999", root: `0x${"00".repeat(32)}` },
        target: { epoch: "425000", root: `0x${root.repeat(32)}` },
      },
    });
  const key = `$(curl -s ${url}/api/v1/eth2/publicKeys | cut -d'"' -f2)`;
  process.stdout.write(`
slashguard is up: ${url}  (Web3Signer-compatible API; point a validator client's external signer here)

Dashboard: ${url}/  (sign in with the owner token in ${files.owner})

Try:
  curl ${url}/api/v1/eth2/publicKeys
  curl ${url}/healthcheck
  # sign an attestation, then a conflicting one for the same target (refused with 412):
  curl -H 'content-type: application/json' -d '${body("ab")}' ${url}/api/v1/eth2/sign/${key}
  curl -H 'content-type: application/json' -d '${body("cd")}' ${url}/api/v1/eth2/sign/${key}
  curl -H "authorization: Bearer $(cat ${files.keymanager})" ${url}/eth/v1/keystores
  curl ${url}/metrics

Fleet monitor (same port): alerts, hosts and keys for owner "demo"${localAgent ? ` (a built-in agent reports this machine, ${hostname()}, every 15 s)` : ""}:
  curl -H "authorization: Bearer $(cat ${files.owner})" ${url}/api/v1/alerts
  # a second host that reports the same keys: a key active on two hosts, a critical alert on the dashboard
  node dist/cli/main.js agent --monitor ${url} --token-file ${files.agent} --host-name second-host \\
    --eth-keymanager ${url} --eth-keymanager-token-file ${files.keymanager} --interval 15s

Stop with Ctrl-C; the signing history stays in the database.
`);
}
