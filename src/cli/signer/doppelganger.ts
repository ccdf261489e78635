import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Command } from "commander";
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { z } from "zod";
import type { EthNetwork } from "../../chains/ethereum/index.js";
import { BeaconClient, DEFAULT_BEACON_TIMEOUT_MS, DEFAULT_DOPPELGANGER_EPOCHS } from "../../chains/ethereum/index.js";
import {
  createDoppelgangerMetrics,
  DoppelgangerError,
  DoppelgangerErrorCode,
  type DoppelgangerKeyStatus,
} from "../../detect/index.js";
import { doppelgangerRoutes } from "../../http/index.js";
import { DoppelgangerGuard } from "../../signer/index.js";
import type { Store } from "../../store/index.js";
import { type Clock, systemClock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { ConfigError, ConfigErrorCode, pick } from "../config.js";
import { parseDuration, parsePositiveInt } from "../options.js";
import { guardEvents, HttpAlertSink, type SignerAlertSink } from "./alertRelay.js";

/** The `ethereum:` config keys of the doppelganger guard (the section's schema merges them). */
export const doppelgangerConfigShape = {
  beacon_nodes: z.array(z.string().url()).optional(),
  beacon_timeout: z
    .string()
    .regex(/^[0-9]+(ms|s|m)?$/, "a duration such as 500ms or 4s")
    .optional(),
  doppelganger: z.boolean().optional(),
  doppelganger_epochs: z.number().int().min(1).max(64).optional(),
  monitor_url: z.string().url().optional(),
  monitor_token_file: z.string().optional(),
};

export interface DoppelgangerFlags {
  beaconNode?: string[];
  beaconTimeout?: number;
  doppelganger?: boolean;
  doppelgangerEpochs?: number;
  monitorUrl?: string;
  monitorTokenFile?: string;
}

type DoppelgangerConfig = {
  [K in keyof typeof doppelgangerConfigShape]?: z.infer<(typeof doppelgangerConfigShape)[K]>;
};

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function addDoppelgangerOptions(cmd: Command): void {
  cmd
    .option("--beacon-node <url>", "beacon node REST API for the doppelganger guard (repeat for failover)", collect)
    .option("--beacon-timeout <duration>", `per beacon request (default ${DEFAULT_BEACON_TIMEOUT_MS}ms)`, parseDuration)
    .option(
      "--doppelganger-epochs <n>",
      `silent epochs a key needs before it signs (default ${DEFAULT_DOPPELGANGER_EPOCHS}: a key started in epoch E signs from the end of E+2)`,
      parsePositiveInt,
    )
    .option("--no-doppelganger", "turn the doppelganger guard off (keys sign at once; not advised)")
    .option("--monitor-url <url>", "fleet monitor that receives this signer's alerts (doppelganger, database)")
    .option("--monitor-token-file <file>", "agent token for --monitor-url");
}

/** The signer's keys (a local EthSigner or a threshold node's group keys). */
export interface KeyList {
  listKeys(): readonly { pubkeyHex: string }[];
}

/** Extra wiring from the caller (`up` hands in the monitor's alerts; tests a clock). */
export interface DoppelgangerHooks {
  alerts?: SignerAlertSink;
  clock?: Clock;
}

export interface DoppelgangerPart {
  /** The gate the signer calls before protection (null: guard off). */
  guard: DoppelgangerGuard | null;
  activated(pubkeys: string[]): void;
  removed(pubkeys: string[]): void;
  /** Routes, start of the polling loop. */
  start(http: FastifyInstance, signer: KeyList, token: string): Promise<void>;
  describe(): string[];
  health(): { ok: boolean; detail: string };
  stop(): Promise<void>;
}

/**
 * The guard is on by default and needs a beacon node: without one a start is refused with a clear
 * error, unless the operator turns it off (--no-doppelganger, or `doppelganger: false`).
 */
export function setUpDoppelganger(a: {
  flags: DoppelgangerFlags;
  config: DoppelgangerConfig;
  configFile: string;
  network: EthNetwork;
  store: Store;
  logger: Logger;
  registry: Registry;
  hooks: DoppelgangerHooks;
}): DoppelgangerPart {
  const { flags: f, config: c } = a;
  const on = f.doppelganger !== false && c.doppelganger !== false;
  const urls = f.beaconNode ?? c.beacon_nodes ?? [];
  if (!on) return offPart();
  if (urls.length === 0) {
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file: a.configFile, path: "ethereum.beacon_nodes" },
      "the Ethereum doppelganger guard is on by default and needs a beacon node: give --beacon-node URL " +
        "(repeat it for failover; `beacon_nodes:` under `ethereum:` in the config) or turn the guard off with --no-doppelganger",
    );
  }
  const epochs = pick(f.doppelgangerEpochs, c.doppelganger_epochs, DEFAULT_DOPPELGANGER_EPOCHS);
  const timeoutMs =
    f.beaconTimeout ?? (c.beacon_timeout === undefined ? DEFAULT_BEACON_TIMEOUT_MS : parseDuration(c.beacon_timeout));
  const logger = a.logger.child({ job: "doppelganger" });
  const source = `signer@${hostname()}:${process.pid}`;
  const monitorUrl = pick(f.monitorUrl, c.monitor_url, undefined);
  let http: HttpAlertSink | null = null;
  let sink = a.hooks.alerts ?? null;
  if (monitorUrl !== undefined) {
    const tokenFile = pick(f.monitorTokenFile, c.monitor_token_file, undefined);
    if (tokenFile === undefined)
      throw new ConfigError(
        { code: ConfigErrorCode.Invalid, file: a.configFile, path: "ethereum.monitor_token_file" },
        "--monitor-url needs --monitor-token-file (an agent token of the monitor)",
      );
    http = new HttpAlertSink({ url: monitorUrl, token: readFileSync(tokenFile, "utf8").trim() }, { logger });
    sink = http;
  }
  const guard = new DoppelgangerGuard(
    { epochs, genesisValidatorsRoot: a.network.genesisValidatorsRoot, instance: source },
    {
      beacon: new BeaconClient({ urls, timeoutMs }),
      store: a.store,
      clock: a.hooks.clock ?? systemClock,
      logger,
      metrics: createDoppelgangerMetrics(a.registry),
      ...(sink === null ? {} : { events: guardEvents(sink, source, logger) }),
    },
  );
  const alertsTo = monitorUrl ?? (a.hooks.alerts !== undefined ? "the monitor in this process" : null);
  return {
    guard,
    activated: (p) => guard.activate(p),
    removed: (p) => guard.deactivate(p),
    async start(app, _signer, token) {
      await app.register(doppelgangerRoutes, { source: guard, token });
      guard.start();
    },
    describe: () => [
      `doppelganger guard on: a key signs after ${epochs} silent epoch(s) on ${urls.join(", ")} (from the end of epoch E+${epochs + 1} when started in E; status on /api/v1/eth2/doppelganger)`,
      alertsTo === null
        ? "doppelganger alerts: logs and metrics only (give --monitor-url to raise them in a fleet monitor)"
        : `doppelganger alerts go to ${alertsTo}`,
    ],
    health: () => {
      const s = guard.statuses();
      const count = (x: string): number => s.filter((k) => k.status === x).length;
      return {
        ok: true,
        detail: `${count("verified")} verified, ${count("unverified")} unverified, ${count("doppelganger_detected")} doppelganger_detected`,
      };
    },
    stop: async () => {
      await guard.stop();
      await http?.close();
    },
  };
}

/** Guard off: every key signs; the status API says so. */
function offPart(): DoppelgangerPart {
  let signer: KeyList | null = null;
  const statuses = (): DoppelgangerKeyStatus[] =>
    (signer?.listKeys() ?? []).map((k) => ({
      pubkey: k.pubkeyHex,
      index: null,
      status: "verified",
      checkedEpochs: 0,
      remainingEpochs: 0,
      sinceEpoch: null,
      state: null,
      detail: "doppelganger guard off (--no-doppelganger): the key signs without a check",
    }));
  return {
    guard: null,
    activated: () => {},
    removed: () => {},
    async start(app, s, token) {
      signer = s;
      await app.register(doppelgangerRoutes, {
        token,
        source: {
          statuses,
          clear: async (pubkey) => {
            throw new DoppelgangerError(
              { code: DoppelgangerErrorCode.NotDetected, pubkey, status: "verified" },
              "the doppelganger guard is off",
            );
          },
        },
      });
    },
    describe: () => ["doppelganger guard OFF (--no-doppelganger): keys sign without a liveness check"],
    health: () => ({ ok: true, detail: "off" }),
    stop: async () => {},
  };
}
