import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { loadEthSszTypes, resolveNetwork } from "../../chains/ethereum/index.js";
import { ClusterTransport, nodeTlsFiles } from "../../cluster/index.js";
import { requestTotals, SignStats, STATS_KEEP_MINUTES, signRoutes, statsRoutes } from "../../http/index.js";
import { BlsPool, blsThresholdScheme, loadShareKeystores, readClusterFile } from "../../keys/index.js";
import { createProtectionMetrics, EthereumProtection } from "../../protection/index.js";
import type { SignerService } from "../../signer/index.js";
import { createEthSignerMetrics, createThresholdMetrics, ThresholdEthSigner } from "../../signer/index.js";
import { opt } from "../../util/opt.js";
import { ConfigError, ConfigErrorCode, pick, validateSection } from "../config.js";
import { parseDuration, parsePositiveInt } from "../options.js";
import { ProgressLine } from "../progress.js";
import { setUpDoppelganger } from "./doppelganger.js";
import {
  DEFAULT_TOKEN_FILE,
  EthereumConfig,
  type EthereumHooks,
  type EthFlags,
  KEY_CACHE_FILE,
  keymanagerToken,
} from "./ethereumSection.js";
import type { SignerContext, SignerSection } from "./section.js";

/** Default time a request may take to gather T partials (attestations are due a third into a 12 s slot). */
export const DEFAULT_CLUSTER_TIMEOUT_MS = 2000;
const PROBE_MS = 2000;
const STATS_SAMPLE_MS = 5000;

const ClusterConfig = z
  .object({
    file: z.string(),
    node: z.number().int().min(1).max(255),
    listen: z.string().optional(),
    timeout: z
      .string()
      .regex(/^[0-9]+(ms|s)?$/, "a duration such as 500ms or 2s")
      .optional(),
    tls_key: z.string().optional(),
    tls_cert: z.string().optional(),
  })
  .strict();

interface ClusterFlags extends EthFlags {
  cluster?: string;
  node?: number;
  clusterListen?: string;
  clusterTimeout?: number;
  clusterTlsKey?: string;
  clusterTlsCert?: string;
}

/**
 * `slashguard signer --cluster FILE --node I --keystores DIR/share-I`: node I of a threshold cluster
 * serves the Web3Signer API for the group keys and its peers' partial-signature requests over gRPC.
 * Same network, store, doppelganger and protection settings as the Ethereum section (`ethereum:`).
 */
export function thresholdSection(hooks: EthereumHooks = {}): SignerSection {
  return {
    name: "threshold",
    addOptions(cmd: Command): void {
      cmd
        .option("--cluster <file>", "cluster.yaml of a threshold cluster: run as one of its nodes (Ethereum)")
        .option("--node <i>", "this node's index in the cluster file", parsePositiveInt)
        .option(
          "--cluster-listen <host:port>",
          "cluster (gRPC) listen address (default: this node's address in the file)",
        )
        .option(
          "--cluster-timeout <duration>",
          `time a request may take to gather T partials (default ${DEFAULT_CLUSTER_TIMEOUT_MS}ms)`,
          parseDuration,
        )
        .option("--cluster-tls-key <file>", "this node's TLS key (default: node-<i>/node.key beside the cluster file)")
        .option("--cluster-tls-cert <file>", "this node's TLS certificate (default: node-<i>/node.crt)");
    },

    async start(ctx: SignerContext): Promise<SignerService | null> {
      const f = ctx.flags as ClusterFlags;
      if (f.cluster === undefined && ctx.config.cluster === undefined) return null;
      const cc =
        f.cluster === undefined || f.node === undefined
          ? validateSection(ClusterConfig, ctx.config.cluster, ctx.configFile, "cluster")
          : null;
      const file = pick(f.cluster, cc?.file, "");
      const index = pick(f.node, cc?.node, 0);
      const invalid = (path: string, msg: string): ConfigError =>
        new ConfigError({ code: ConfigErrorCode.Invalid, file: ctx.configFile, path }, msg);
      const c = validateSection(EthereumConfig, ctx.config.ethereum, ctx.configFile, "ethereum");
      const keystores = pick(f.keystores, c.keystores, undefined);
      if (keystores === undefined)
        throw invalid("ethereum.keystores", "--cluster needs --keystores DIR/share-<i> (this node's share keystores)");
      const cluster = readClusterFile(file);
      const self = cluster.nodes.find((n) => n.index === index);
      if (self === undefined)
        throw invalid("cluster.node", `--node ${index}: ${file} has nodes 1..${cluster.nodes.length}`);
      if (cluster.threshold === null)
        throw invalid("cluster.file", `${file} has no keys yet (run keys split or cluster dkg)`);
      const threshold = cluster.threshold;

      const network = resolveNetwork({
        network: pick(f.network, c.network, "mainnet"),
        ...opt("genesisValidatorsRoot", f.genesisValidatorsRoot ?? c.genesis_validators_root),
        ...opt("genesisForkVersion", f.genesisForkVersion ?? c.genesis_fork_version),
        ...opt("preset", f.preset ?? c.preset),
      });
      const types = await loadEthSszTypes(network.preset);
      const logger = ctx.logger.child({ chain: "ethereum", node: index });
      const doppelganger = setUpDoppelganger({
        flags: f,
        config: c,
        configFile: ctx.configFile,
        network,
        store: ctx.store,
        logger,
        registry: ctx.registry,
        hooks,
      });
      const protection = await EthereumProtection.open(
        { genesisValidatorsRoot: network.genesisValidatorsRoot },
        { store: ctx.store, logger, metrics: createProtectionMetrics(ctx.registry), events: ctx.events },
      );
      const pool = new BlsPool({ ...opt("threads", f.blsThreads ?? c.bls_threads) });
      const ethMetrics = createEthSignerMetrics(ctx.registry);
      const metrics = createThresholdMetrics(ctx.registry);
      const gates = [...(hooks.gates ?? []), ...(doppelganger.guard === null ? [] : [doppelganger.guard])];
      const timeoutMs =
        f.clusterTimeout ?? (cc?.timeout === undefined ? DEFAULT_CLUSTER_TIMEOUT_MS : parseDuration(cc.timeout));
      const signer = new ThresholdEthSigner(
        { index, threshold, nodes: cluster.nodes.length, deadlineMs: timeoutMs },
        { network, types, pool, protection, scheme: blsThresholdScheme, logger, metrics, gates },
      );

      const progress = new ProgressLine("decrypting share keystores");
      const cacheOn = f.keyCache !== false && c.key_cache?.enabled !== false;
      const cacheFile = pick(f.keyCacheFile, c.key_cache?.file, join(keystores, KEY_CACHE_FILE));
      const { shares, failures, cached } = await loadShareKeystores(cluster, index, keystores, {
        ...opt("passwordsDir", pick(f.passwords, c.passwords, undefined)),
        onProgress: (d, t) => progress.update(d, t),
        ...opt("cache", cacheOn ? { cacheFile, logger } : undefined),
      });
      progress.done();
      if (cached !== null)
        logger.info("Keys loaded", {
          fromCache: cached.fromCache,
          decrypted: cached.decrypted,
          failed: cached.failures.length,
          ms: cached.phases,
        });
      for (const x of failures)
        logger.error("Share keystore not loaded", { file: x.file, code: x.error.code }, x.error);
      ethMetrics.keyLoadErrors.set(failures.length);
      await signer.addShares(shares);
      ethMetrics.keysLoaded.set(signer.keyCount);
      const pubkeys = signer.listKeys().map((k) => k.pubkeyHex);
      doppelganger.activated(pubkeys);
      hooks.onKeysActivated?.(pubkeys);

      const tls = nodeTlsFiles(dirname(file), index);
      const transport = await ClusterTransport.start(
        {
          self: index,
          nodes: cluster.nodes,
          tlsKey: readFileSync(pick(f.clusterTlsKey, cc?.tls_key, tls.key)),
          tlsCert: readFileSync(pick(f.clusterTlsCert, cc?.tls_cert, tls.cert)),
          listen: pick(f.clusterListen, cc?.listen, self.address),
          probeMs: PROBE_MS,
        },
        {
          handlers: { partialSign: (from, req) => signer.signPartial(from, req), keyCount: () => signer.keyCount },
          logger: logger.child({ transport: "cluster" }),
          metrics,
        },
      );
      signer.attachTransport(transport);

      await ctx.http.register(signRoutes, { signer, metrics: ethMetrics });
      const stats = new SignStats(
        { keepMinutes: STATS_KEEP_MINUTES, now: Date.now },
        requestTotals(ethMetrics.requests),
      );
      await stats.start(STATS_SAMPLE_MS);
      await ctx.http.register(statsRoutes, { stats, keyCount: () => signer.keyCount });
      await doppelganger.start(
        ctx.http,
        signer,
        keymanagerToken(pick(f.keymanagerTokenFile, c.keymanager?.token_file, DEFAULT_TOKEN_FILE)),
      );
      const peers = cluster.nodes.length - 1;
      logger.info("Threshold node ready", {
        node: index,
        threshold,
        nodes: cluster.nodes.length,
        keys: signer.keyCount,
      });
      return {
        name: "threshold",
        describe: () => [
          `node ${index} of ${cluster.nodes.length} (threshold ${threshold}), cluster endpoint ${self.address} (listening on port ${transport.port}), ${signer.keyCount} group keys${failures.length > 0 ? `, ${failures.length} share keystores FAILED to load (see log)` : ""}`,
          `network ${network.name} (${network.preset} preset); keymanager API off in cluster mode`,
          ...doppelganger.describe(),
        ],
        health: async () => {
          const reachable = transport.reachableCount;
          return {
            ok: failures.length === 0 && pool.liveThreads > 0 && reachable >= threshold - 1,
            checks: {
              keys: { ok: failures.length === 0, detail: `${signer.keyCount} group keys, ${failures.length} failed` },
              peers: {
                ok: reachable >= threshold - 1,
                detail: `${reachable} of ${peers} peers reachable (${threshold - 1} needed to sign)`,
              },
              signingThreads: { ok: pool.liveThreads > 0, detail: `${pool.liveThreads} of ${pool.threads} alive` },
              doppelganger: doppelganger.health(),
            },
          };
        },
        stop: async () => {
          stats.stop();
          await transport.stop();
          await doppelganger.stop();
          await protection.close();
          await pool.close();
        },
      };
    },
  };
}
