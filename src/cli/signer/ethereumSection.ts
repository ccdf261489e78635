import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import { loadEthSszTypes, NETWORK_NAMES, resolveNetwork } from "../../chains/ethereum/index.js";
import {
  keymanagerRoutes,
  requestTotals,
  SignStats,
  STATS_KEEP_MINUTES,
  signRoutes,
  statsRoutes,
} from "../../http/index.js";
import {
  BlsPool,
  DEFAULT_KDF_LIMITS,
  KDF_LIMIT_CEILING,
  type KdfLimits,
  KeyCacheUpdater,
  KeystoreDecryptor,
  loadKeystoreDir,
  loadKeystoreDirCached,
} from "../../keys/index.js";
import { createProtectionMetrics, EthereumProtection } from "../../protection/index.js";
import type { SignerService } from "../../signer/index.js";
import { createEthSignerMetrics, EthSigner, Keymanager } from "../../signer/index.js";
import { writeFileDurable } from "../../util/durableFile.js";
import { opt } from "../../util/opt.js";
import type { SigningGate } from "../../util/signingGate.js";
import { pick, validateSection } from "../config.js";
import { parsePositiveInt } from "../options.js";
import { ProgressLine } from "../progress.js";
import {
  addDoppelgangerOptions,
  type DoppelgangerFlags,
  type DoppelgangerHooks,
  doppelgangerConfigShape,
  setUpDoppelganger,
} from "./doppelganger.js";
import type { SignerContext, SignerSection } from "./section.js";

export const EthereumConfig = z
  .object({
    network: z.enum(NETWORK_NAMES).optional(),
    genesis_validators_root: z.string().optional(),
    genesis_fork_version: z.string().optional(),
    preset: z.enum(["mainnet", "minimal"]).optional(),
    keystores: z.string().optional(),
    passwords: z.string().optional(),
    bls_threads: z.number().int().positive().optional(),
    /** The key cache (restarts skip the keystores' KDF); on by default. */
    key_cache: z.object({ enabled: z.boolean().optional(), file: z.string().optional() }).strict().optional(),
    keymanager: z.object({ enabled: z.boolean().optional(), token_file: z.string().optional() }).strict().optional(),
    /** KDF work a keystore may ask for (at start and through the keymanager API). */
    keystore_kdf: z
      .object({
        max_scrypt_n: z.number().int().min(2).max(KDF_LIMIT_CEILING).optional(),
        max_pbkdf2_c: z.number().int().min(1).max(KDF_LIMIT_CEILING).optional(),
      })
      .strict()
      .optional(),
    ...doppelgangerConfigShape,
  })
  .strict();

export interface EthFlags extends DoppelgangerFlags {
  network?: string;
  genesisValidatorsRoot?: string;
  genesisForkVersion?: string;
  preset?: string;
  keystores?: string;
  passwords?: string;
  blsThreads?: number;
  keyCache?: boolean;
  keyCacheFile?: string;
  keymanager?: boolean;
  keymanagerTokenFile?: string;
  keystoreMaxScryptN?: number;
  keystoreMaxPbkdf2C?: number;
}

export const DEFAULT_TOKEN_FILE = "./data/keymanager-token";
/** The key cache's default name, in the keystore folder (not NAME.json: never read as a keystore). */
export const KEY_CACHE_FILE = ".slashguard-key-cache";

/** A KDF limit flag: a whole number up to the ceiling (raising it is the operator's informed choice). */
function kdfLimitArg(v: string): number {
  if (!/^[0-9]{1,8}$/.test(v) || Number(v) < 1 || Number(v) > KDF_LIMIT_CEILING)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${KDF_LIMIT_CEILING}`);
  return Number(v);
}
/** How often the per-minute signing counts are brought up to date (each request for them also does). */
const STATS_SAMPLE_MS = 5000;

/** Reads the keymanager bearer token, creating it (mode 0600) on first start. */
export function keymanagerToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dirname(file), { recursive: true });
  const token = randomBytes(32).toString("hex");
  writeFileDurable(file, `${token}\n`);
  return token;
}

/** Extra wiring other jobs hook into (more gates; where doppelganger alerts go; a clock for tests). */
export interface EthereumHooks extends DoppelgangerHooks {
  gates?: SigningGate[];
  onKeysActivated?: (pubkeys: string[]) => void;
  /** The keymanager's keystore decryptor (tests gate it); default: one worker thread. */
  keystoreDecryptor?: (limits: KdfLimits) => KeystoreDecryptor;
}

export function ethereumSection(hooks: EthereumHooks = {}): SignerSection {
  return {
    name: "ethereum",
    addOptions(cmd: Command): void {
      cmd
        .option("--network <name>", `Ethereum network: ${NETWORK_NAMES.join(", ")}`)
        .option("--genesis-validators-root <hex>", "genesis validators root (required for --network custom)")
        .option("--genesis-fork-version <hex>", "GENESIS_FORK_VERSION of a custom network (validator registrations)")
        .option("--preset <name>", "mainnet or minimal (custom networks; dev chains use minimal)")
        .option("--keystores <dir>", "folder of EIP-2335 keystores NAME.json with passwords NAME.txt")
        .option("--passwords <dir>", "folder of NAME.txt password files, if not beside the keystores")
        .option("--bls-threads <n>", "BLS signing threads (default: one per core)", parsePositiveInt)
        .option("--no-key-cache", "decrypt every keystore at each start (no key cache)")
        .option("--key-cache-file <file>", `the key cache (default <keystores>/${KEY_CACHE_FILE})`)
        .option("--no-keymanager", "disable the keymanager API (/eth/v1/keystores)")
        .option(
          "--keymanager-token-file <file>",
          `bearer token for the keymanager API, created at first start (default ${DEFAULT_TOKEN_FILE})`,
        )
        .option(
          "--keystore-max-scrypt-n <n>",
          `largest scrypt n a keystore may ask for (default ${DEFAULT_KDF_LIMITS.maxScryptN}, what EIP-2335 tools write)`,
          kdfLimitArg,
        )
        .option(
          "--keystore-max-pbkdf2-c <c>",
          `largest pbkdf2 c a keystore may ask for (default ${DEFAULT_KDF_LIMITS.maxPbkdf2C})`,
          kdfLimitArg,
        );
      addDoppelgangerOptions(cmd);
    },

    async start(ctx: SignerContext): Promise<SignerService | null> {
      if (ctx.flags.cluster !== undefined || ctx.config.cluster !== undefined) return null; // threshold: thresholdSection.ts
      const f = ctx.flags as EthFlags;
      const c = validateSection(EthereumConfig, ctx.config.ethereum, ctx.configFile, "ethereum");
      const keystores = pick(f.keystores, c.keystores, undefined);
      if (keystores === undefined) return null;
      const network = resolveNetwork({
        network: pick(f.network, c.network, "mainnet"),
        ...opt("genesisValidatorsRoot", f.genesisValidatorsRoot ?? c.genesis_validators_root),
        ...opt("genesisForkVersion", f.genesisForkVersion ?? c.genesis_fork_version),
        ...opt("preset", f.preset ?? c.preset),
      });
      const types = await loadEthSszTypes(network.preset);
      const logger = ctx.logger.child({ chain: "ethereum" });
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
      const activated = (pubkeys: string[]): void => {
        doppelganger.activated(pubkeys);
        hooks.onKeysActivated?.(pubkeys);
      };
      const protection = await EthereumProtection.open(
        { genesisValidatorsRoot: network.genesisValidatorsRoot },
        { store: ctx.store, logger, metrics: createProtectionMetrics(ctx.registry), events: ctx.events },
      );
      const pool = new BlsPool({ ...opt("threads", f.blsThreads ?? c.bls_threads) });
      const metrics = createEthSignerMetrics(ctx.registry);
      const gates = [...(hooks.gates ?? []), ...(doppelganger.guard === null ? [] : [doppelganger.guard])];
      const signer = new EthSigner({ network, types, pool, protection, logger, metrics, gates });

      const kdfLimits: KdfLimits = {
        maxScryptN: pick(f.keystoreMaxScryptN, c.keystore_kdf?.max_scrypt_n, DEFAULT_KDF_LIMITS.maxScryptN),
        maxPbkdf2C: pick(f.keystoreMaxPbkdf2C, c.keystore_kdf?.max_pbkdf2_c, DEFAULT_KDF_LIMITS.maxPbkdf2C),
      };
      mkdirSync(keystores, { recursive: true });
      const progress = new ProgressLine("decrypting keystores");
      const passwordsDir = pick(f.passwords, c.passwords, undefined);
      const cacheOn = f.keyCache !== false && c.key_cache?.enabled !== false;
      const cacheFile = pick(f.keyCacheFile, c.key_cache?.file, join(keystores, KEY_CACHE_FILE));
      const loadOpts = {
        ...opt("passwordsDir", passwordsDir),
        kdfLimits,
        onProgress: (d: number, t: number) => progress.update(d, t),
      };
      const { keys, failures } = cacheOn
        ? await loadKeystoreDirCached(keystores, { ...loadOpts, cacheFile, logger }).then((r) => {
            const ms = r.phases;
            logger.info("Keys loaded", {
              fromCache: r.fromCache,
              decrypted: r.decrypted,
              failed: r.failures.length,
              ms,
            });
            return r;
          })
        : await loadKeystoreDir(keystores, loadOpts);
      progress.done();
      for (const x of failures) logger.error("Keystore not loaded", { file: x.file, code: x.error.code }, x.error);
      metrics.keyLoadErrors.set(failures.length);
      const registering = performance.now();
      await signer.addKeys(keys);
      signer.publicKeysJson(); // built once now, not in the first client's request (10 MB at 100,000 keys)
      logger.info("Keys registered", { keys: keys.length, ms: Math.round(performance.now() - registering) });
      activated(signer.listKeys().map((k) => k.pubkeyHex));

      await ctx.http.register(signRoutes, { signer, metrics });
      // Signatures and refusals per minute for the dashboard's signer view (sampled from the counters).
      const stats = new SignStats({ keepMinutes: STATS_KEEP_MINUTES, now: Date.now }, requestTotals(metrics.requests));
      await stats.start(STATS_SAMPLE_MS);
      await ctx.http.register(statsRoutes, { stats, keyCount: () => signer.keyCount });
      const keymanagerOn = f.keymanager !== false && c.keymanager?.enabled !== false;
      const tokenFile = pick(f.keymanagerTokenFile, c.keymanager?.token_file, DEFAULT_TOKEN_FILE);
      const token = keymanagerToken(tokenFile);
      await doppelganger.start(ctx.http, signer, token);
      const decryptor = keymanagerOn
        ? (hooks.keystoreDecryptor?.(kdfLimits) ?? new KeystoreDecryptor({ limits: kdfLimits }))
        : null;
      if (decryptor !== null) {
        const keymanager = new Keymanager({
          signer,
          protection,
          store: ctx.store,
          network,
          logger,
          keystoresDir: keystores,
          onKeysActivated: activated,
          onKeysRemoved: (p) => doppelganger.removed(p),
          decryptor,
          ...opt(
            "keyCache",
            cacheOn
              ? new KeyCacheUpdater(
                  { file: cacheFile, dir: keystores, ...opt("passwordsDir", passwordsDir) },
                  { logger },
                )
              : undefined,
          ),
        });
        keymanager.warmAnswers();
        await ctx.http.register(keymanagerRoutes, { keymanager, token });
      }
      logger.info("Ethereum signer ready", { network: network.name, keys: signer.keyCount, failed: failures.length });
      return {
        name: "ethereum",
        describe: () => [
          `network ${network.name} (${network.preset} preset), ${signer.keyCount} keys loaded${failures.length > 0 ? `, ${failures.length} keystores FAILED to load (see log)` : ""}`,
          keymanagerOn
            ? `keymanager API on /eth/v1/keystores, bearer token in ${tokenFile}`
            : "keymanager API disabled",
          ...doppelganger.describe(),
        ],
        health: async () => ({
          ok: failures.length === 0 && pool.liveThreads > 0,
          checks: {
            keys: { ok: failures.length === 0, detail: `${signer.keyCount} loaded, ${failures.length} failed` },
            signingThreads: { ok: pool.liveThreads > 0, detail: `${pool.liveThreads} of ${pool.threads} alive` },
            doppelganger: doppelganger.health(),
          },
        }),
        stop: async () => {
          stats.stop();
          await decryptor?.close();
          await doppelganger.stop();
          await protection.close();
          await pool.close();
        },
      };
    },
  };
}
